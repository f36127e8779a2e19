import { Injectable } from '@nestjs/common';
import { ExpectationFailedError } from '../common/errors';
import { TempFiles } from '../common/temp-files';
import { DatasetDef } from '../core/definitions';
import { checkColumns } from '../core/expectation-rows';
import { describeViolations, RuleViolation, ViolationMode } from '../core/expectations';
import { Metrics } from '../metrics/metrics';
import { ColumnSchema, IngestInput } from './dataset-manifest';
import { ColumnProfile, ExpectationChecks } from './expectation-checks';
import { ConvertedFile } from './file-converter';

/** What the expectations did to one converted file. */
export interface CheckedFile {
  /** The rows to commit (the good part, after a quarantine); null when none is left. */
  converted: ConvertedFile | null;
  /** The rows set apart by a quarantine, in a local file, with the rules they broke. */
  quarantined?: { path: string; rows: number };
  violations: RuleViolation[];
}

/**
 * Applies a dataset's expectations to each converted file of an ingest, before anything is
 * uploaded: `reject` fails the ingest naming each broken rule (EXPECTATION_FAILED), `quarantine`
 * keeps the rows that break no row rule and sets the others apart (a broken rule of the whole
 * file — rows, max_null_rate — still rejects: no row can be set apart for it), `warn` keeps
 * every row and counts what broke.
 */
@Injectable()
export class IngestChecks {
  private readonly broken;

  constructor(
    private readonly checks: ExpectationChecks,
    private readonly temp: TempFiles,
    metrics: Metrics,
  ) {
    this.broken = metrics.counter('featurelake_expectation_violations_total', 'Rows that broke a dataset expectation and were quarantined or let in (warn)', ['dataset', 'rule', 'mode']);
  }

  async apply(dataset: DatasetDef, input: IngestInput, converted: ConvertedFile): Promise<CheckedFile> {
    const expectations = dataset.expectations;
    if (!expectations) return { converted, violations: [] };
    const violations = await this.checks.check(converted.path, expectations, converted.schema);
    if (violations.length === 0) return { converted, violations };
    const mode = expectations.onViolation;
    const wholeFile = violations.filter((v) => v.scope === 'file');
    if (mode === 'reject' || (mode === 'quarantine' && wholeFile.length > 0)) throw failed(dataset, input, mode === 'reject' ? violations : wholeFile, mode);
    this.count(dataset, violations, mode);
    if (mode === 'warn') return { converted, violations };
    return this.quarantine(dataset, converted, violations);
  }

  /**
   * A push's rows (columns of JSON values), checked in this process before anything is written:
   * `warn` lets them in and counts, `reject` and `quarantine` refuse them all (a pusher is
   * there to fix its rows; nothing is set apart). `column` maps a rule's column to the df's.
   */
  checkRows(dataset: DatasetDef, df: Record<string, unknown[]>, rows: number, column?: (name: string) => string): void {
    const expectations = dataset.expectations;
    if (!expectations) return;
    const violations = checkColumns(expectations, df, rows, column);
    if (violations.length === 0) return;
    if (expectations.onViolation !== 'warn') throw failed(dataset, { name: 'df' }, violations, 'reject');
    this.count(dataset, violations, 'warn');
  }

  /** The profile of the rows an ingest commits, all its files read as one. */
  profile(paths: string[], schema: ColumnSchema[]): Promise<ColumnProfile[]> {
    return this.checks.profile(paths, schema);
  }

  private async quarantine(dataset: DatasetDef, converted: ConvertedFile, violations: RuleViolation[]): Promise<CheckedFile> {
    const good = await this.temp.path('.parquet');
    const bad = await this.temp.path('.parquet');
    try {
      const split = await this.checks.split(converted.path, dataset.expectations!, converted.schema, dataset.timestampField, good, bad);
      await this.temp.remove(converted.path);
      const kept = split.goodRows === 0 ? null : { ...converted, path: good, rows: split.goodRows, bytes: await this.temp.size(good), minTimestamp: split.minTimestamp, maxTimestamp: split.maxTimestamp };
      if (!kept) await this.temp.remove(good);
      return { converted: kept, quarantined: { path: bad, rows: split.badRows }, violations };
    } catch (error) {
      await this.temp.remove(good, bad);
      throw error;
    }
  }

  private count(dataset: DatasetDef, violations: RuleViolation[], mode: ViolationMode): void {
    for (const v of violations) this.broken.inc({ dataset: dataset.name, rule: v.name, mode }, v.violations);
  }
}

function failed(dataset: DatasetDef, input: Pick<IngestInput, 'name'>, violations: RuleViolation[], mode: ViolationMode): ExpectationFailedError {
  const why = mode === 'quarantine' ? ' (a rule of the whole file: no row can be set apart for it)' : '';
  return new ExpectationFailedError(
    `${input.name}: ${violations.length} expectation(s) of dataset ${dataset.name} failed${why}; nothing was committed:\n${describeViolations(violations).map((l) => `  ${l}`).join('\n')}`,
    { dataset: dataset.name, file: input.name, rules: violations.map((v) => ({ rule: v.name, column: v.column, expects: v.expects, violations: v.violations, examples: v.examples })) },
  );
}
