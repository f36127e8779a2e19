import { DuckDBConnection, DuckDBTimestampValue } from '@duckdb/node-api';
import { ExpectationInvalidError } from '../common/errors';
import { Expectations, RuleViolation } from '../core/expectations';
import { DuckDbDatabase } from '../duckdb/duckdb-database';
import { isEngineResourceError } from '../duckdb/engine-errors';
import { outputColumns, RFC3339_MICROS } from '../duckdb/output-timestamps';
import { quoteLiteral, quoteName, quotePathList } from '../duckdb/sql-text';
import { ColumnSchema } from './dataset-manifest';
import { checkedRowsSql, ownColumns, ROW_NUMBER, RuleSql, ruleSql } from './expectation-sql';
import { ColumnProfile, ExpectationChecks, SplitFile } from './expectation-checks';

const NESTED = /\]$|^(STRUCT|MAP|UNION)\(/;
const TIMES = /^TIMESTAMP/;

/** ExpectationChecks on the ingest's in-memory DuckDB: one pass over the file for every rule's count. */
export class DuckDbExpectationChecks extends ExpectationChecks {
  constructor(private readonly db: DuckDbDatabase) {
    super();
  }

  /**
   * One pass for every rule's count and first rows (uniqueness in a second, narrow one), and one
   * more read for the example rows of the rules broken.
   */
  async check(path: string, expectations: Expectations, schema: ColumnSchema[]): Promise<RuleViolation[]> {
    return this.db.withConnection(async (c) => {
      const rules = ruleSql(expectations, schema);
      const passes = [
        { rules: rules.filter((r) => r.rule.name !== 'unique'), rows: checkedRowsSql(path, expectations, 'no-rank') },
        { rules: rules.filter((r) => r.rule.name === 'unique'), rows: checkedRowsSql(path, expectations, 'narrow') },
      ].filter((p) => p.rules.length > 0);
      const broken: { rule: RuleSql; count: number; first: bigint[] }[] = [];
      for (const pass of passes) {
        const aggregates = pass.rules.flatMap((r) => [r.count, r.firstRows ?? 'NULL']);
        const [total, ...perRule] = (await run(c, `SELECT count(*), ${aggregates.join(', ')} FROM (${pass.rows}) AS t`)).getRows()[0];
        pass.rules.forEach((rule, i) => {
          const count = Number(perRule[2 * i]);
          if (rule.broken(Number(total), count)) broken.push({ rule, count, first: rowNumbers(perRule[2 * i + 1]) });
        });
      }
      const rows = await exampleRows(c, path, broken.flatMap((b) => b.first), schema);
      const order = new Map(rules.map((r, i) => [r.rule.name, i]));
      return broken
        .sort((a, b) => order.get(a.rule.rule.name)! - order.get(b.rule.rule.name)!)
        .map(({ rule, count, first }) => ({ ...rule.rule, violations: count, examples: first.flatMap((n) => { const row = rows.get(n); return row ? [row] : []; }) }));
    });
  }

  async split(path: string, expectations: Expectations, schema: ColumnSchema[], timestampField: string | undefined, goodPath: string, badPath: string): Promise<SplitFile> {
    return this.db.withConnection(async (c) => {
      const rules = ruleSql(expectations, schema).filter((r) => r.rule.scope === 'row' && r.breaks);
      const bad = rules.map((r) => r.breaks).join(' OR ');
      await run(c, `CREATE TEMP TABLE checked AS SELECT *, (${bad}) AS __fl_bad FROM (${checkedRowsSql(path, expectations)})`);
      const own = ownColumns(expectations, '__fl_bad');
      const names = `concat_ws(',', ${rules.map((r) => `CASE WHEN ${r.breaks} THEN ${quoteLiteral(r.rule.name)} END`).join(', ')}) AS __broken_rules`;
      const good = await c.run(`COPY (SELECT ${own} FROM checked WHERE NOT __fl_bad ORDER BY file_row_number) TO ${quoteLiteral(goodPath)} (FORMAT parquet, COMPRESSION zstd)`);
      const quarantined = await c.run(`COPY (SELECT ${own}, ${names} FROM checked WHERE __fl_bad ORDER BY file_row_number) TO ${quoteLiteral(badPath)} (FORMAT parquet, COMPRESSION zstd)`);
      const ts = timestampField ? quoteName(timestampField) : 'NULL::TIMESTAMP';
      const [lo, hi] = (await c.runAndReadAll(`SELECT min(${ts}), max(${ts}) FROM checked WHERE NOT __fl_bad`)).getRows()[0] as [DuckDBTimestampValue | null, DuckDBTimestampValue | null];
      return { goodRows: good.rowsChanged, badRows: quarantined.rowsChanged, minTimestamp: lo?.micros ?? null, maxTimestamp: hi?.micros ?? null };
    });
  }

  async profile(paths: string[], schema: ColumnSchema[]): Promise<ColumnProfile[]> {
    if (paths.length === 0) return [];
    return this.db.withConnection(async (c) => {
      const aggregates = schema.flatMap((col) => {
        const name = quoteName(col.name);
        if (NESTED.test(col.type)) return [`count(${name})`, 'NULL', 'NULL', 'NULL'];
        const text = (agg: string) => (TIMES.test(col.type) ? `strftime(CAST(${agg}(${name}) AS TIMESTAMP), '${RFC3339_MICROS}')` : `CAST(${agg}(${name}) AS VARCHAR)`);
        return [`count(${name})`, text('min'), text('max'), `approx_count_distinct(${name})`];
      });
      const row = (await c.runAndReadAll(`SELECT count(*), ${aggregates.join(', ')} FROM read_parquet(${quotePathList(paths)})`)).getRows()[0];
      const rows = Number(row[0]);
      return schema.map((col, i) => {
        const [count, min, max, distinct] = row.slice(1 + i * 4, 5 + i * 4);
        return { name: col.name, type: col.type, count: Number(count), nulls: rows - Number(count), min: min === null ? null : String(min), max: max === null ? null : String(max), distinct: distinct === null ? null : Number(distinct) };
      });
    });
  }
}

/** The rows of the given numbers, times as RFC 3339 (as every answer gives them), by number. */
async function exampleRows(c: DuckDBConnection, path: string, numbers: bigint[], schema: ColumnSchema[]): Promise<Map<bigint, Record<string, unknown>>> {
  if (numbers.length === 0) return new Map();
  const file = `read_parquet(${quoteLiteral(path)}, file_row_number = true)`;
  const sql = `SELECT ${ROW_NUMBER}, to_json(e)::VARCHAR FROM (SELECT ${ROW_NUMBER}, ${outputColumns(schema, 'text').select} FROM ${file} WHERE ${ROW_NUMBER} IN (${[...new Set(numbers)].join(', ')})) AS e`;
  const rows = (await run(c, sql)).getRows();
  return new Map(rows.map(([n, json]) => [BigInt(n as bigint), withoutRowNumber(JSON.parse(String(json)))]));
}

function withoutRowNumber(row: Record<string, unknown>): Record<string, unknown> {
  const { [ROW_NUMBER]: _n, ...own } = row;
  return own;
}

/** min_by(…, n) answers a list (NULL when no row matched). */
function rowNumbers(value: unknown): bigint[] {
  const items = (value as { items?: unknown[] } | null)?.items ?? [];
  return items.map((n) => BigInt(n as bigint));
}

/** A rule DuckDB cannot evaluate on these columns (a text bound on a number column, say) is the repo's error, named as such. */
async function run(c: DuckDBConnection, sql: string) {
  try {
    return await c.runAndReadAll(sql);
  } catch (error) {
    if (isEngineResourceError(error)) throw error;
    throw new ExpectationInvalidError(`the dataset's expectations cannot be checked against its columns: ${(error instanceof Error ? error.message : String(error)).split('\n')[0]}`);
  }
}
