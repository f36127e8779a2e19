import { ColumnRules, Expectations, MAX_EXAMPLES, Rule, rulesOf, RuleValue, RuleViolation } from './expectations';
import { parseTimestamp } from './timestamp';

/**
 * The expectations over rows held as columns (a push's `df`), with the meaning DuckDB gives
 * them at ingest (lake/expectation-sql.ts): a null breaks only `not_null` (and counts towards
 * `max_null_rate`); bounds compare numbers as numbers and times as times; the first of equal
 * `unique` values is kept. Regular expressions are JavaScript's here, RE2's at ingest (the same
 * for the usual classes, anchors and repetitions). `column` maps a rule's column to the df's.
 */
export function checkColumns(expectations: Expectations, df: Record<string, unknown[]>, rows: number, column: (name: string) => string = (n) => n): RuleViolation[] {
  const values = (name: string): unknown[] => df[column(name)] ?? [];
  const byName = new Map(rulesOf(expectations).map((r) => [r.name, r]));
  const found: RuleViolation[] = [];
  const report = (rule: Rule, broken: number[], count = broken.length) => {
    if (count > 0) found.push({ ...rule, violations: count, examples: broken.slice(0, MAX_EXAMPLES).map((row) => rowObject(df, row)) });
  };
  for (const { column: name, rules } of expectations.columns) {
    const of = values(name);
    for (const [kind, breaks] of rowTests(rules)) report(byName.get(`${name}.${kind}`)!, indexes(rows, (i) => of[i] !== null && of[i] !== undefined && breaks(of[i])));
    if (rules.notNull) report(byName.get(`${name}.not_null`)!, indexes(rows, (i) => of[i] === null || of[i] === undefined));
    if (rules.maxNullRate !== undefined) {
      const nulls = indexes(rows, (i) => of[i] === null || of[i] === undefined);
      if (rows > 0 && nulls.length / rows > rules.maxNullRate) report(byName.get(`${name}.max_null_rate`)!, nulls);
    }
  }
  if (expectations.unique?.length) {
    const seen = new Set<string>();
    const keys = expectations.unique.map(values);
    report(byName.get('unique')!, indexes(rows, (i) => {
      const key = JSON.stringify(keys.map((k) => k[i] ?? null));
      return seen.has(key) || (seen.add(key), false);
    }));
  }
  const bounds = expectations.rows;
  if (bounds?.min !== undefined && rows < bounds.min) report(byName.get('rows.min')!, [], rows || 1);
  if (bounds?.max !== undefined && rows > bounds.max) report(byName.get('rows.max')!, [], rows);
  return order(found, byName);
}

/** The tests of one column's rules that judge a non-null value. */
function rowTests(rules: ColumnRules): [string, (value: unknown) => boolean][] {
  const tests: [string, (value: unknown) => boolean][] = [];
  if (rules.min !== undefined) tests.push(['min', (v) => compare(v, rules.min!) < 0]);
  if (rules.max !== undefined) tests.push(['max', (v) => compare(v, rules.max!) > 0]);
  if (rules.regex !== undefined) {
    const pattern = new RegExp(rules.regex);
    tests.push(['regex', (v) => !pattern.test(String(v))]);
  }
  if (rules.allowed !== undefined) tests.push(['allowed', (v) => !rules.allowed!.some((a) => same(v, a))]);
  if (rules.maxLength !== undefined) tests.push(['max_length', (v) => [...String(v)].length > rules.maxLength!]);
  return tests;
}

/** Numbers as numbers, times (RFC 3339 text) as times, anything else as text. */
function compare(value: unknown, bound: RuleValue): number {
  if (typeof bound === 'number') {
    const n = typeof value === 'number' ? value : Number(value);
    return Number.isNaN(n) ? 0 : n - bound;
  }
  const a = typeof value === 'string' ? parseTimestamp(value) : null;
  const b = parseTimestamp(String(bound));
  if (a !== null && b !== null) return a < b ? -1 : a > b ? 1 : 0;
  const text = String(value);
  return text < String(bound) ? -1 : text > String(bound) ? 1 : 0;
}

function same(value: unknown, allowed: RuleValue): boolean {
  return typeof allowed === 'number' ? Number(value) === allowed : String(value) === String(allowed);
}

function indexes(rows: number, test: (row: number) => boolean): number[] {
  const out: number[] = [];
  for (let i = 0; i < rows; i++) if (test(i)) out.push(i);
  return out;
}

function rowObject(df: Record<string, unknown[]>, row: number): Record<string, unknown> {
  return Object.fromEntries(Object.entries(df).map(([name, values]) => [name, values[row] ?? null]));
}

/** In the order rulesOf gives (the order the ingest's check reports them in). */
function order(found: RuleViolation[], byName: Map<string, Rule>): RuleViolation[] {
  const rank = new Map([...byName.keys()].map((name, i) => [name, i]));
  return found.sort((a, b) => rank.get(a.name)! - rank.get(b.name)!);
}
