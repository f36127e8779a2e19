import { Command } from 'commander';
import { formatTimestamp, requireTimestamp } from '../../core/timestamp';
import { MaterializationRun, MaterializationService } from '../../materialization/materialization.service';
import { GlobalOptions, withServices } from '../context';
import { count, seconds, table } from '../output';

const views = (list?: string) => (list ? list.split(',').map((v) => v.trim()).filter(Boolean) : undefined);

export function materializeCommands(program: Command, globals: () => GlobalOptions): void {
  program
    .command('materialize')
    .description('recompute [START, END] of feature views from the lake into the offline and online stores')
    .argument('<start>', 'window start, ISO-8601 (UTC when no offset)')
    .argument('<end>', 'window end, ISO-8601 (UTC when no offset)')
    .option('--views <names>', 'comma-separated feature views (default: all)')
    .action((start: string, end: string, options: { views?: string }) =>
      withServices(globals(), async (get) => {
        const run = await get(MaterializationService).materialize(requireTimestamp(start, 'START'), requireTimestamp(end, 'END'), views(options.views));
        print(run);
      }),
    );

  program
    .command('materialize-incremental')
    .description("materialize each view from where its last run ended up to END")
    .argument('<end>', 'window end, ISO-8601 (UTC when no offset), e.g. now: $(date -u +%FT%TZ)')
    .option('--views <names>', 'comma-separated feature views (default: all)')
    .action((end: string, options: { views?: string }) =>
      withServices(globals(), async (get) => {
        print(await get(MaterializationService).materializeIncremental(requireTimestamp(end, 'END'), views(options.views)));
      }),
    );
}

function print(run: MaterializationRun): void {
  const rows = run.views.map((v) => [
    v.view,
    v.sourceSnapshot === null ? 'no data' : String(v.sourceSnapshot),
    formatTimestamp(v.start),
    formatTimestamp(v.end),
    count(v.rowsOffline),
    count(v.rowsOnline),
    seconds(v.durationMs),
  ]);
  console.log(table(['feature view', 'snapshot', 'from', 'to', 'offline rows', 'online rows', 'time'], rows));
  console.log(`Materialized ${run.views.length} feature view(s) in ${seconds(run.durationMs)}.`);
}
