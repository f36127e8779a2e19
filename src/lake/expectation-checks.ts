import { Expectations, RuleViolation } from '../core/expectations';
import { ColumnSchema } from './dataset-manifest';

/** What the rows of a dataset's snapshot looked like, per column. */
export interface ColumnProfile {
  name: string;
  type: string;
  /** Values that are not null. */
  count: number;
  nulls: number;
  /** The smallest and largest value as text (RFC 3339 for times); null for nested types or no values. */
  min: string | null;
  max: string | null;
  /** An estimate (HyperLogLog) of the distinct values. */
  distinct: number | null;
}

/** A file split by a quarantine: the rows that keep every row rule, and those that do not. */
export interface SplitFile {
  goodRows: number;
  badRows: number;
  /** Event-time range of the good rows (micros), when the dataset has a timestamp field. */
  minTimestamp: bigint | null;
  maxTimestamp: bigint | null;
}

/**
 * Checks, splits and profiles the lake's normalised Parquet before it is committed. Contract:
 * `check` answers the broken rules only, each with its count and up to five example rows;
 * `split` writes the rows that break no row rule to `goodPath` and the others to `badPath`
 * with a `__broken_rules` column (rule names, comma-separated), both in file order; `profile`
 * reads all `paths` as one. Nothing else is written.
 */
export abstract class ExpectationChecks {
  abstract check(path: string, expectations: Expectations, schema: ColumnSchema[]): Promise<RuleViolation[]>;

  abstract split(path: string, expectations: Expectations, schema: ColumnSchema[], timestampField: string | undefined, goodPath: string, badPath: string): Promise<SplitFile>;

  abstract profile(paths: string[], schema: ColumnSchema[]): Promise<ColumnProfile[]>;
}
