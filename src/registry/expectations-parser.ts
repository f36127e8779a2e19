import { FieldReader } from '../common/field-reader';
import { ColumnRules, Expectations, RuleValue, VIOLATION_MODES, ViolationMode } from '../core/expectations';

const RULE_FIELDS = ['not_null', 'min', 'max', 'regex', 'allowed', 'max_null_rate', 'max_length'];

/** A dataset's `expectations:` (core/expectations.ts); every problem is recorded at its field. */
export function readExpectations(dataset: FieldReader): Expectations | undefined {
  const at = dataset.object('expectations');
  if (!at) return undefined;
  at.rejectUnknown(['on_violation', 'columns', 'unique', 'rows']);
  const mode = at.string('on_violation') ?? 'reject';
  if (!(VIOLATION_MODES as readonly string[]).includes(mode)) at.issue(`must be one of ${VIOLATION_MODES.join(', ')}, got ${JSON.stringify(mode)}`, 'on_violation');
  const columns: Expectations['columns'] = [];
  const section = at.object('columns');
  for (const column of Object.keys(section?.value ?? {})) {
    const rules = section?.object(column, true);
    if (rules) columns.push({ column, rules: readColumnRules(rules) });
  }
  const unique = at.stringList('unique');
  if (unique?.length === 0) at.issue('must name at least one column', 'unique');
  const rows = readRows(at);
  // Only when nothing is declared at all: a rule given wrongly is reported once, where it is.
  if (!at.has('columns') && !at.has('unique') && !at.has('rows')) at.issue('declares no rule (columns, unique or rows)');
  return { onViolation: mode as ViolationMode, columns, ...(unique?.length ? { unique } : {}), ...(rows ? { rows } : {}) };
}

function readColumnRules(at: FieldReader): ColumnRules {
  at.rejectUnknown(RULE_FIELDS);
  const rules: ColumnRules = {};
  if (at.boolean('not_null', false)) rules.notNull = true;
  for (const [field, key] of [['min', 'min'], ['max', 'max']] as const) {
    const value = at.value[field];
    if (value === undefined || value === null) continue;
    if ((typeof value === 'number' && Number.isFinite(value)) || typeof value === 'string') rules[key] = value;
    else at.issue(`must be a number (or a time or text, quoted), got ${JSON.stringify(value)}`, field);
  }
  const regex = at.string('regex');
  if (regex !== undefined) {
    try {
      new RegExp(regex);
      rules.regex = regex;
    } catch (error) {
      at.issue(`is not a regular expression: ${(error as Error).message}`, 'regex');
    }
  }
  const allowed = at.value.allowed;
  if (allowed !== undefined && allowed !== null) {
    if (!Array.isArray(allowed) || allowed.length === 0 || !allowed.every(isRuleValue)) at.issue('must be a non-empty list of numbers, texts or booleans', 'allowed');
    else rules.allowed = allowed;
  }
  const rate = at.value.max_null_rate;
  if (rate !== undefined && rate !== null) {
    if (typeof rate !== 'number' || rate < 0 || rate > 1) at.issue(`must be a number from 0 to 1, got ${JSON.stringify(rate)}`, 'max_null_rate');
    else rules.maxNullRate = rate;
  }
  const length = at.value.max_length;
  if (length !== undefined && length !== null) {
    if (!Number.isInteger(length) || (length as number) < 1) at.issue(`must be a whole number of characters, 1 or more, got ${JSON.stringify(length)}`, 'max_length');
    else rules.maxLength = length as number;
  }
  if (Object.keys(at.value).length === 0) at.issue(`declares no rule (use ${RULE_FIELDS.join(', ')})`);
  return rules;
}

function readRows(at: FieldReader): Expectations['rows'] {
  const rows = at.object('rows');
  if (!rows) return undefined;
  rows.rejectUnknown(['min', 'max']);
  const bound = (field: 'min' | 'max') => {
    const value = rows.value[field];
    if (value === undefined || value === null) return undefined;
    if (!Number.isInteger(value) || (value as number) < 0) {
      rows.issue(`must be a whole number, 0 or more, got ${JSON.stringify(value)}`, field);
      return undefined;
    }
    return value as number;
  };
  const result = { ...(bound('min') !== undefined ? { min: bound('min') } : {}), ...(bound('max') !== undefined ? { max: bound('max') } : {}) };
  if (result.min !== undefined && result.max !== undefined && result.min > result.max) rows.issue(`min (${result.min}) is above max (${result.max})`, 'min');
  return Object.keys(result).length ? result : undefined;
}

function isRuleValue(value: unknown): value is RuleValue {
  return typeof value === 'string' || typeof value === 'boolean' || (typeof value === 'number' && Number.isFinite(value));
}
