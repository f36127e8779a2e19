import { Command } from 'commander';
import { writeFileSync } from 'node:fs';
import { ValidationFailedError } from '../../common/errors';
import { SkewResult } from '../../core/skew/skew-result';
import { parseSkewSpec } from '../../core/skew/skew-spec';
import { SkewChecksService } from '../../monitoring/skew/skew-checks.service';
import { GlobalOptions, withServices } from '../context';
import { table } from '../output';
import { skewTable } from '../skew-table';

interface RunOptions {
  name?: string;
  reference?: string;
  current: string;
  checks?: string;
  features?: string;
  last?: string;
  start?: string;
  end?: string;
  driftShare?: string;
  consistencyThreshold?: string;
  webhook?: string;
  html?: string;
  json?: boolean;
}

export function skewCommands(program: Command, globals: () => GlobalOptions): void {
  const group = program.command('skew').description('skew checks: online/offline consistency, distribution drift and schema skew');

  group
    .command('run')
    .description('compare two sides now; sides are training-set:NAME, serving-logs:SERVICE, dataset:NAME[@SNAPSHOT] or feature-view:NAME')
    .option('--reference <side>', 'the baseline (needed for distribution and schema checks)')
    .requiredOption('--current <side>', 'the data to check')
    .option('--checks <list>', 'comma-separated: consistency, distribution, schema (default: all the sides allow)')
    .option('--features <list>', 'comma-separated view:feature names (default: all)')
    .option('--last <duration>', 'serving logs and feature views: only the last 30m, 1h, 7d …')
    .option('--start <time>', 'serving logs and feature views: from this ISO-8601 time')
    .option('--end <time>', 'serving logs and feature views: until this ISO-8601 time')
    .option('--drift-share <share>', 'dataset drift at this share of drifted features (default 0.5)')
    .option('--consistency-threshold <share>', 'largest share of inconsistent rows per feature (default 0.01)')
    .option('--name <name>', 'group results under this name (/metrics)')
    .option('--webhook <url>', 'POST a summary here when the check fails')
    .option('--html <file>', 'also write the HTML report here')
    .option('--json', 'print the JSON result instead of the table')
    .action((options: RunOptions) =>
      withServices(globals(), async (get) => {
        const spec = parseSkewSpec({
          name: options.name,
          reference: options.reference === undefined ? undefined : side(options.reference, options, '--reference'),
          current: side(options.current, options, '--current'),
          checks: list(options.checks),
          features: list(options.features),
          drift_share: number(options.driftShare, '--drift-share'),
          consistency_threshold: number(options.consistencyThreshold, '--consistency-threshold'),
          webhook: options.webhook,
        });
        await report(get(SkewChecksService), await get(SkewChecksService).run(spec), options);
      }),
    );

  group
    .command('declared')
    .description('run a check declared under skew_checks: in the feature repo, now')
    .argument('<name>')
    .option('--html <file>', 'also write the HTML report here')
    .option('--json', 'print the JSON result instead of the table')
    .action((name: string, options: { html?: string; json?: boolean }) =>
      withServices(globals(), async (get) => report(get(SkewChecksService), await get(SkewChecksService).runDeclared(name), options)),
    );

  group
    .command('list')
    .description('stored results, newest first')
    .option('--name <name>', "only this check's runs")
    .action((options: { name?: string }) =>
      withServices(globals(), async (get) => {
        const rows = (await get(SkewChecksService).list(50, options.name)).map((r) => [r.id, r.name ?? '', r.status, r.checks.join(','), r.reference?.label ?? '', r.current.label]);
        console.log(table(['id', 'name', 'status', 'checks', 'reference', 'current'], rows));
      }),
    );

  group
    .command('show')
    .description('a stored result')
    .argument('<id>')
    .option('--html <file>', 'write its HTML report here')
    .option('--json', 'print the JSON result instead of the table')
    .action((id: string, options: { html?: string; json?: boolean }) =>
      withServices(globals(), async (get) => report(get(SkewChecksService), await get(SkewChecksService).get(id), options, false)),
    );
}

/** Prints the result; a failed check exits 1, so `featurelake skew run` can gate a pipeline. */
async function report(service: SkewChecksService, result: SkewResult, options: { html?: string; json?: boolean }, setExit = true): Promise<void> {
  console.log(options.json ? JSON.stringify(result, null, 2) : skewTable(result));
  if (options.html) {
    writeFileSync(options.html, await service.report(result.id));
    if (!options.json) console.log(`\nReport: ${options.html}`);
  }
  if (setExit && result.status === 'failed') process.exitCode = 1;
}

/** `kind:name[@snapshot]` → the side object of a request (kinds may use - or _). */
function side(text: string, options: RunOptions, flag: string): Record<string, unknown> {
  const match = /^([a-z_-]+):([^@]+)(?:@(\d+))?$/.exec(text);
  if (!match) throw new ValidationFailedError(`${flag}: expected KIND:NAME, e.g. training-set:delay_training or serving-logs:delay_model`, { field: flag });
  const [, rawKind, name, snapshot] = match;
  const kind = rawKind.replace(/-/g, '_');
  const window = { ...(options.start && { start: options.start }), ...(options.end && { end: options.end }), ...(options.last && { last: options.last }) };
  switch (kind) {
    case 'training_set':
      return { training_set: name };
    case 'dataset':
      return { dataset: { name, ...(snapshot && { snapshot_id: Number(snapshot) }) } };
    case 'serving_logs':
      return { serving_logs: { feature_service: name, ...window } };
    case 'feature_view':
      return { feature_view: { name, ...window } };
    default:
      throw new ValidationFailedError(`${flag}: unknown side kind ${JSON.stringify(rawKind)} (training-set, serving-logs, dataset, feature-view)`, { field: flag });
  }
}

function list(text?: string): string[] | undefined {
  return text?.split(',').map((s) => s.trim()).filter(Boolean);
}

function number(text: string | undefined, flag: string): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!Number.isFinite(value)) throw new ValidationFailedError(`${flag}: must be a number`, { field: flag });
  return value;
}
