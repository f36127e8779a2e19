import { Command } from 'commander';
import { createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { TrainingSetsService } from '../../retrieval/training-sets.service';
import { toTrainingSetBody } from '../../retrieval/training-set.mapper';
import { GlobalOptions, withServices } from '../context';
import { EntityOptions, entitySource, withEntityOptions } from '../entity-options';
import { count, outputPath, seconds, table } from '../output';
import { outputFormat, selection, SelectionOptions, withSelectionOptions } from './features.commands';

export function trainingSetCommands(program: Command, globals: () => GlobalOptions): void {
  const group = program.command('training-sets').description('saved, reproducible training sets in the lake');

  withEntityOptions(withSelectionOptions(group.command('save')))
    .description('build a training set from the lake snapshots as they are now, and save it with what it takes to rebuild it')
    .argument('<name>', 'a unique name (letters, digits, _)')
    .option('--description <text>', 'what it is for')
    .option('--created-before-event', "only use feature rows created at or before each entity row's time")
    .action((name: string, options: SelectionOptions & EntityOptions & { description?: string; createdBeforeEvent?: boolean }) =>
      withServices(globals(), async (get) => {
        const saved = await get(TrainingSetsService).save({ name, description: options.description, ...selection(options), createdBeforeEvent: options.createdBeforeEvent, source: entitySource(options) });
        console.log(`Saved training set ${saved.name}: ${count(saved.rowCount)} rows, registry version ${saved.registryVersion}, ` +
          `${snapshotList(saved.sources)}, in ${seconds(saved.timings.totalMs)}.`);
      }),
    );

  group
    .command('list', { isDefault: true })
    .description('the saved training sets')
    .action(() =>
      withServices(globals(), async (get) => {
        const rows = (await get(TrainingSetsService).list()).map((m) => [m.name, m.createdAt, count(m.rowCount), String(m.registryVersion), snapshotList(m.sources)]);
        console.log(table(['training set', 'created', 'rows', 'registry', 'snapshots'], rows));
      }),
    );

  group
    .command('describe')
    .alias('show')
    .description('the metadata of a saved training set (what it was built from, its schema and digest)')
    .argument('<name>')
    .action((name: string) => withServices(globals(), async (get) => console.log(JSON.stringify(toTrainingSetBody(await get(TrainingSetsService).get(name)), null, 2))));

  group
    .command('download')
    .description('write a saved training set to a file (.parquet, .csv, .jsonl, .json or .arrow)')
    .argument('<name>')
    .requiredOption('--output <file>')
    .action((name: string, options: { output: string }) =>
      withServices(globals(), async (get) => {
        await pipeline(await get(TrainingSetsService).download(name, outputFormat(options.output)), createWriteStream(await outputPath(options.output)));
        console.log(`Wrote training set ${name} to ${options.output}.`);
      }),
    );

  group
    .command('delete')
    .description('delete a saved training set (its metadata, entity rows and data)')
    .argument('<name>')
    .action((name: string) =>
      withServices(globals(), async (get) => {
        const deleted = await get(TrainingSetsService).delete(name);
        console.log(`Deleted training set ${deleted.name} (${count(deleted.rowCount)} rows).`);
      }),
    );

  group
    .command('verify')
    .description('rebuild a saved training set from its metadata and compare the bytes')
    .argument('<name>')
    .action((name: string) =>
      withServices(globals(), async (get) => {
        const result = await get(TrainingSetsService).verify(name);
        console.log(`${result.identical ? 'Identical' : 'DIFFERENT'}: ${count(result.rows)} rows, saved ${result.savedSha256}, rebuilt ${result.rebuiltSha256}.`);
        if (!result.identical) process.exitCode = 1;
      }),
    );
}

/** `flights@3, airports@1`: each snapshot once, however many views read it. */
function snapshotList(sources: { dataset: string; snapshotId: number }[]): string {
  return [...new Set(sources.map((s) => `${s.dataset}@${s.snapshotId}`))].join(', ');
}
