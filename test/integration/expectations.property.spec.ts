import fc from 'fast-check';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkColumns } from '../../src/core/expectation-rows';
import { Expectations } from '../../src/core/expectations';
import { DuckDbDatabase } from '../../src/duckdb/duckdb-database';
import { DuckDbExpectationChecks } from '../../src/lake/duckdb.expectation-checks';
import { query, testDatabase } from '../support/duckdb-files';

const EXPECTATIONS: Expectations = {
  onViolation: 'reject',
  columns: [
    { column: 'price', rules: { notNull: true, min: 0, max: 100, maxNullRate: 0.2 } },
    { column: 'symbol', rules: { notNull: true, regex: '^[A-Z]{1,3}$', allowed: ['A', 'AB', 'ABC', 'x'], maxLength: 2 } },
    { column: 'ts', rules: { min: '2026-01-01T00:00:00Z', max: '2026-01-02T00:00:00Z' } },
  ],
  unique: ['symbol', 'ts'],
  rows: { min: 3, max: 40 },
};

const row = fc.record({
  symbol: fc.option(fc.constantFrom('A', 'AB', 'ABC', 'ABCD', 'x', 'ZZ'), { nil: null }),
  price: fc.option(fc.constantFrom(-1, 0, 0.5, 50, 100, 100.5, 1000), { nil: null }),
  ts: fc.constantFrom('2025-12-31T23:00:00Z', '2026-01-01T00:00:00Z', '2026-01-01T12:00:00Z', '2026-01-02T00:00:00Z', '2026-01-02T00:00:01Z'),
});

/**
 * Pushed rows are checked in the server (core/expectation-rows.ts), files at ingest by DuckDB
 * (lake/expectation-sql.ts): on random rows both find the same rules broken, by as many rows.
 */
describe('expectations: the push check agrees with the ingest check (property)', () => {
  let dir: string;
  let db: DuckDbDatabase;
  let checks: DuckDbExpectationChecks;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'fl-expect-prop-'));
    db = testDatabase(':memory:', dir);
    checks = new DuckDbExpectationChecks(db);
  });

  afterAll(async () => {
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('finds the same violations with the same counts', async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(row, { minLength: 1, maxLength: 50 }), async (rows) => {
        const jsonl = join(dir, `rows-${run}.jsonl`);
        const parquet = join(dir, `rows-${run++}.parquet`);
        writeFileSync(jsonl, rows.map((r) => JSON.stringify(r)).join('\n'));
        await query(`COPY (SELECT symbol::VARCHAR AS symbol, price::DOUBLE AS price, ts::TIMESTAMPTZ::TIMESTAMP AS ts FROM read_json('${jsonl}', format = 'newline_delimited', columns = {symbol: 'VARCHAR', price: 'DOUBLE', ts: 'VARCHAR'})) TO '${parquet}' (FORMAT parquet)`);
        const schema = [{ name: 'symbol', type: 'VARCHAR' }, { name: 'price', type: 'DOUBLE' }, { name: 'ts', type: 'TIMESTAMP' }];
        const atIngest = await checks.check(parquet, EXPECTATIONS, schema);
        const df = { symbol: rows.map((r) => r.symbol), price: rows.map((r) => r.price), ts: rows.map((r) => r.ts) };
        const atPush = checkColumns(EXPECTATIONS, df, rows.length);
        expect(atPush.map((v) => [v.name, v.violations])).toEqual(atIngest.map((v) => [v.name, v.violations]));
      }),
      { numRuns: 60 },
    );
  });
});
