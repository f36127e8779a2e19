import { DuckDBInstance } from '@duckdb/node-api';
import { join } from 'node:path';
import { DuckDbDatabase } from '../../src/duckdb/duckdb-database';

/** Writes the result of `sql` (run on an in-memory DuckDB) to a Parquet, CSV or JSON Lines file. */
export async function writeFile(path: string, sql: string, options = ''): Promise<void> {
  const format = path.endsWith('.csv') ? 'csv, HEADER true' : path.endsWith('.jsonl') ? 'json' : 'parquet';
  await withDuckDb((c) => c.run(`COPY (${sql}) TO '${path}' (FORMAT ${format}${options ? `, ${options}` : ''})`));
}

/** Rows of a query as plain JS objects (bigint for BIGINT, ISO text for timestamps). */
export async function query(sql: string): Promise<Record<string, unknown>[]> {
  return withDuckDb(async (c) => (await c.runAndReadAll(sql)).getRowObjectsJson() as Record<string, unknown>[]);
}

async function withDuckDb<T>(work: (c: Awaited<ReturnType<DuckDBInstance['connect']>>) => Promise<T>): Promise<T> {
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    await connection.run("SET TimeZone = 'UTC'");
    return await work(connection);
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

/**
 * Real flights from vega-datasets (the first `days` days of 2001), replayed so the last day is
 * yesterday (UTC): online values are then fresh, as in the quickstart. Returns the day shift.
 */
export async function writeReplayedFlights(source: string, path: string, days: number): Promise<number> {
  const [{ shift }] = await query(
    `SELECT (current_date - 1 - (TIMESTAMP '2001-01-01' + to_days(${days - 1}))::DATE)::INTEGER AS shift`,
  );
  await writeFile(
    path,
    `SELECT date + to_days(${shift}) AS date, delay, distance, origin, destination
     FROM read_parquet('${source}') WHERE date < TIMESTAMP '2001-01-01' + to_days(${days})`,
  );
  return shift as number;
}

/** A DuckDbDatabase for tests, bounded like the ones the application makes (512 MiB, 4 GiB of spill). */
export function testDatabase(path: string, dir: string, name = 'test'): DuckDbDatabase {
  return new DuckDbDatabase({ name, path, tempDir: join(dir, `tmp-duckdb-${name}`), stateDir: dir, memoryLimitBytes: 512 * 2 ** 20, tempLimitBytes: 4 * 2 ** 30 });
}
