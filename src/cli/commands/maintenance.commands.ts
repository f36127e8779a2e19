import { Command } from 'commander';
import { ValidationFailedError } from '../../common/errors';
import { GcResult } from '../../maintenance/lake-gc';
import { LakeMaintenance, MaintenanceReport } from '../../maintenance/lake-maintenance';
import { GlobalOptions, withServices } from '../context';
import { count } from '../output';

interface GcFlags {
  grace?: string;
  dryRun?: boolean;
  verbose?: boolean;
}

/** `gc`, `maintain` and `views compact`: the lake looking after itself, by command. */
export function maintenanceCommands(program: Command, globals: () => GlobalOptions): void {
  withGcOptions(program.command('gc'), 'list what would expire and be deleted, change nothing')
    .description('expire snapshots under each dataset\'s retention, then delete lake objects nothing references (never what a saved training set pins) once older than the grace period')
    .action((options: GcFlags) =>
      withServices(globals(), async (get) => {
        const maintenance = get(LakeMaintenance);
        const expired = await maintenance.expire({ dryRun: options.dryRun });
        const gc = await maintenance.gc({ graceSeconds: graceOf(options), dryRun: options.dryRun });
        printExpired(expired, options.dryRun);
        printGc(gc, options);
      }),
    );

  withGcOptions(program.command('maintain'), 'compact nothing; list what would expire and be deleted')
    .description('one round of what maintenance.every schedules: compact datasets and feature logs with many small files and views\' piled-up buckets, expire snapshots, GC')
    .action((options: GcFlags) =>
      withServices(globals(), async (get) => {
        const report = await get(LakeMaintenance).run({ graceSeconds: graceOf(options), dryRun: options.dryRun });
        printRound(report, options);
        if (report.failures.length > 0) process.exitCode = 1;
      }),
    );

  program
    .command('views')
    .description('the feature views\' offline rows in the lake')
    .command('compact')
    .description('rewrite each bucket of the views (all by default) that holds two files or more, and has nothing pending online, as one file with the same rows')
    .argument('[views...]', 'feature view names')
    .action((views: string[]) =>
      withServices(globals(), async (get) => {
        for (const v of await get(LakeMaintenance).compactViews(views.length > 0 ? views : undefined)) {
          console.log(v.buckets > 0 ? `Compacted ${v.buckets} buckets of ${v.view}.` : `Nothing to compact in ${v.view}.`);
        }
      }),
    );
}

function withGcOptions(command: Command, dryRun: string): Command {
  return command
    .option('--grace <seconds>', "GC's grace period: only objects older than this (default: maintenance.grace, or limits.ingest_timeout_seconds + 1 h)")
    .option('--dry-run', dryRun)
    .option('--verbose', 'list every object deleted');
}

function graceOf(options: GcFlags): number | undefined {
  if (options.grace === undefined) return undefined;
  const grace = Number(options.grace);
  if (!(Number.isInteger(grace) && grace >= 0)) throw new ValidationFailedError(`--grace: must be a whole number of seconds, got ${JSON.stringify(options.grace)}`, { field: 'grace' });
  return grace;
}

function printExpired(expired: MaintenanceReport['expired'], dryRun?: boolean): void {
  for (const e of expired) console.log(`${dryRun ? 'would expire' : 'expired'} ${e.dataset} snapshots ${e.snapshots.join(', ')}`);
}

function printGc(gc: GcResult, options: GcFlags): void {
  const verb = options.dryRun ? 'would delete' : 'deleted';
  for (const r of gc.restored) console.log(`${options.dryRun ? 'would restore' : 'restored'} ${r} (a saved training set pins it)`);
  if (options.dryRun || options.verbose) for (const key of gc.deleted) console.log(`${verb} ${key}`);
  const areas = new Map<string, number>();
  for (const key of gc.deleted) areas.set(key.split('/')[0], (areas.get(key.split('/')[0]) ?? 0) + 1);
  const byArea = areas.size > 0 ? ` (${[...areas].map(([area, n]) => `${area} ${count(n)}`).join(', ')})` : '';
  console.log(`${verb[0].toUpperCase()}${verb.slice(1)} ${count(gc.deleted.length)} objects${byArea}; ${count(gc.young)} unreferenced objects are younger than the grace period and stay.`);
}

function printRound(report: MaintenanceReport, options: GcFlags): void {
  for (const c of report.compacted) console.log(`compacted ${c.mergedFiles} files of ${c.dataset} into ${c.newFiles} as snapshot ${c.snapshotId}`);
  for (const v of report.compactedBuckets) console.log(`compacted ${v.buckets} buckets of ${v.view}`);
  printExpired(report.expired, options.dryRun);
  printGc(report.gc, options);
  for (const f of report.failures) console.error(`${f.step}: ${f.error.code}: ${f.error.message}`);
}
