import { Command } from 'commander';
import { extname } from 'node:path';
import { ValidationFailedError } from '../../common/errors';
import { SelectionRequest } from '../../core/feature-selection';
import { stringifyJson } from '../../core/json';
import { ResultFormat } from '../../retrieval/result-encoder';
import { RegistryService } from '../../registry/registry.service';
import { HistoricalFeaturesService } from '../../retrieval/historical-features.service';
import { OnlineFeaturesService } from '../../serving/online-features.service';
import { GlobalOptions, withServices } from '../context';
import { EntityOptions, entitySource, withEntityOptions } from '../entity-options';
import { cell, count, outputPath, seconds, table } from '../output';

export interface SelectionOptions {
  features?: string;
  featureService?: string;
  fullFeatureNames?: boolean;
}

export function selection(options: SelectionOptions): SelectionRequest {
  return {
    features: options.features?.split(',').map((f) => f.trim()),
    featureService: options.featureService,
    fullFeatureNames: options.fullFeatureNames ?? false,
  };
}

export function withSelectionOptions(command: Command): Command {
  return command
    .option('--features <refs>', 'comma-separated view:feature references')
    .option('--feature-service <name>', 'a feature service instead of --features')
    .option('--full-feature-names', 'name features view__feature');
}

export function featureCommands(program: Command, globals: () => GlobalOptions): void {
  withSelectionOptions(program.command('get-online-features'))
    .description('fetch the latest feature values for entities from the online store')
    .requiredOption('--entity <key=v1,v2…>', 'join-key values, repeatable (one per join key)', collect, [])
    .option('--json', 'print the Feast-format JSON response')
    .action((options: SelectionOptions & { entity: string[]; json?: boolean }) =>
      withServices(globals(), async (get) => {
        const keyTypes = (await get(RegistryService).catalog()).joinKeyTypes();
        const entities = Object.fromEntries(options.entity.map((e) => parseEntityOption(e, keyTypes)));
        const response = await get(OnlineFeaturesService).get({ ...selection(options), entities });
        if (options.json) return console.log(stringifyJson(response));
        const names = response.metadata.feature_names;
        const rows = response.results[0].values.map((_, row) =>
          response.results.map((col) => cell(col.values[row]) + (col.statuses[row] === 'PRESENT' ? '' : ` (${col.statuses[row]})`)),
        );
        console.log(table(names, rows));
      }),
    );

  withEntityOptions(withSelectionOptions(program.command('get-historical-features')))
    .description('build a point-in-time correct training set and write it to a file')
    .requiredOption('--output <file>', 'where to write the result (.parquet, .csv, .jsonl, .json or .arrow)')
    .option('--created-before-event', 'only use feature rows created at or before each entity row\'s time')
    .action((options: SelectionOptions & EntityOptions & { output: string; createdBeforeEvent?: boolean }) =>
      withServices(globals(), async (get) => {
        const started = Date.now();
        const rows = await get(HistoricalFeaturesService).toFile(
          { ...selection(options), createdBeforeEvent: options.createdBeforeEvent, source: entitySource(options) },
          outputFormat(options.output),
          await outputPath(options.output),
        );
        console.log(`Wrote ${count(rows)} rows to ${options.output} in ${seconds(Date.now() - started)}.`);
      }),
    );
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** `airport=ORD,ATL` → ['airport', ['ORD', 'ATL']], values typed by the join key's declared type. */
function parseEntityOption(option: string, keyTypes: Map<string, { type: string }>): [string, unknown[]] {
  const [name, list] = option.split(/=(.*)/s);
  if (!name || list === undefined) throw new ValidationFailedError(`--entity ${option}: use KEY=VALUE[,VALUE…]`);
  const type = keyTypes.get(name)?.type ?? 'string';
  const values = list.split(',').map((v): unknown => {
    if (type === 'int32' || type === 'float32' || type === 'float64') return v.trim() === '' ? v : Number(v);
    if (type === 'bool') return v === 'true' ? true : v === 'false' ? false : v;
    return v;
  });
  return [name, values];
}

export function outputFormat(file: string): ResultFormat {
  const extension = extname(file).toLowerCase().slice(1);
  const formats: Record<string, ResultFormat> = { parquet: 'parquet', csv: 'csv', jsonl: 'jsonl', ndjson: 'jsonl', json: 'json', arrow: 'arrow', arrows: 'arrow' };
  const format = formats[extension];
  if (!format) throw new ValidationFailedError(`--output: ${file} must end in .parquet, .csv, .jsonl, .json or .arrow (got ${extname(file) || 'no extension'})`);
  return format;
}
