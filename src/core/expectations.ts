/**
 * Declared rules a dataset's incoming rows must keep (`expectations:` in the feature repo):
 * checked over each incoming file by DuckDB at ingest (lake/expectation-sql.ts) before anything
 * is committed, and over pushed rows before anything is written.
 */
export const VIOLATION_MODES = ['reject', 'quarantine', 'warn'] as const;
export type ViolationMode = (typeof VIOLATION_MODES)[number];

/** A literal a rule compares with: numbers for numeric columns, text for text and times. */
export type RuleValue = string | number | boolean;

export interface ColumnRules {
  notNull?: boolean;
  min?: RuleValue;
  max?: RuleValue;
  /** A regular expression the text must match somewhere (anchor it, `^…$`, to match it whole). */
  regex?: string;
  allowed?: RuleValue[];
  /** The share of null values one file may have (0…1). */
  maxNullRate?: number;
  maxLength?: number;
}

export interface Expectations {
  onViolation: ViolationMode;
  /** Rules per column, in the order declared. */
  columns: { column: string; rules: ColumnRules }[];
  /** Columns whose values together must be unique within one incoming file. */
  unique?: string[];
  rows?: { min?: number; max?: number };
}

/**
 * One rule as it is named in messages and metrics (`price.min`, `unique`, `rows.min`), with what
 * it expects in words; `row` rules judge each row (a quarantine can set those rows apart), the
 * others the file as a whole.
 */
export interface Rule {
  name: string;
  column?: string;
  expects: string;
  scope: 'row' | 'file';
}

/** What a check found of one rule. */
export interface RuleViolation extends Rule {
  /** Rows that break it (for max_null_rate: the null rows; for rows: the file's rows). */
  violations: number;
  /** Up to five of the rows that break it, as JSON objects. */
  examples: Record<string, unknown>[];
}

export const MAX_EXAMPLES = 5;

/** Every rule of the expectations, in a stable order. */
export function rulesOf(expectations: Expectations): Rule[] {
  const rules: Rule[] = [];
  for (const { column, rules: r } of expectations.columns) {
    const add = (kind: string, expects: string, scope: Rule['scope'] = 'row') => rules.push({ name: `${column}.${kind}`, column, expects, scope });
    if (r.notNull) add('not_null', `${column} is not null`);
    if (r.min !== undefined) add('min', `${column} >= ${JSON.stringify(r.min)}`);
    if (r.max !== undefined) add('max', `${column} <= ${JSON.stringify(r.max)}`);
    if (r.regex !== undefined) add('regex', `${column} matches ${JSON.stringify(r.regex)}`);
    if (r.allowed !== undefined) add('allowed', `${column} is one of ${JSON.stringify(r.allowed)}`);
    if (r.maxLength !== undefined) add('max_length', `${column} has at most ${r.maxLength} characters`);
    if (r.maxNullRate !== undefined) add('max_null_rate', `at most ${r.maxNullRate * 100}% of ${column} is null`, 'file');
  }
  if (expectations.unique?.length) rules.push({ name: 'unique', expects: `(${expectations.unique.join(', ')}) is unique in the file`, scope: 'row' });
  if (expectations.rows?.min !== undefined) rules.push({ name: 'rows.min', expects: `the file has at least ${expectations.rows.min} rows`, scope: 'file' });
  if (expectations.rows?.max !== undefined) rules.push({ name: 'rows.max', expects: `the file has at most ${expectations.rows.max} rows`, scope: 'file' });
  return rules;
}

/** The columns the expectations name (to check against a dataset's schema). */
export function expectationColumns(expectations: Expectations): string[] {
  return [...new Set([...expectations.columns.map((c) => c.column), ...(expectations.unique ?? [])])];
}

/** `price.min (price >= 0): 3 rows, e.g. {"symbol":"X","price":-1}` — one line per broken rule. */
export function describeViolations(violations: RuleViolation[]): string[] {
  return violations.map((v) => {
    const examples = v.examples.length ? `, e.g. ${v.examples.map((e) => JSON.stringify(e)).join(' ')}` : '';
    return `${v.name} (${v.expects}): ${v.violations.toLocaleString('en-US')} row${v.violations === 1 ? '' : 's'}${examples}`;
  });
}
