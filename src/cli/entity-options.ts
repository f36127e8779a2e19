import { Command } from 'commander';
import { basename, resolve } from 'node:path';
import { ValidationFailedError } from '../common/errors';
import { requireTimestamp } from '../core/timestamp';
import { formatFromFileName } from '../lake/dataset-manifest';
import { FILTER_OPS, FilterOp, RowFilter } from '../offline-store/offline-store';
import { EntitySource } from '../retrieval/entity-source';

export interface EntityOptions {
  entities?: string;
  entityDataset?: string;
  snapshot?: string;
  from?: string;
  to?: string;
  filter: string[];
  keyColumn: string[];
  timestampColumn?: string;
}

/** The options that say where entity rows come from, shared by get-historical-features and training-sets save. */
export function withEntityOptions(command: Command): Command {
  return command
    .option('--entities <file>', 'entity rows in a .parquet, .csv or .jsonl file: join keys, event_timestamp, any other columns (kept)')
    .option('--entity-dataset <name>', 'entity rows from a lake dataset (its timestamp field is the event time)')
    .option('--snapshot <id>', 'with --entity-dataset: that snapshot instead of the latest')
    .option('--from <time>', 'with --entity-dataset: rows from this time; alone (with --to): every entity\'s feature rows in the window')
    .option('--to <time>', 'with --entity-dataset: rows up to this time; alone (with --from): the window\'s end')
    .option('--filter <column:op:value>', 'with --entity-dataset, repeatable: e.g. origin:in:ORD,ATL or delay:>:15', collect, [])
    .option('--key-column <key=column>', 'with --entity-dataset, repeatable: the dataset column that holds a join key', collect, [])
    .option('--timestamp-column <column>', 'with --entity-dataset: the column that holds the entity times');
}

export function entitySource(options: EntityOptions): EntitySource {
  if (options.entities) {
    const format = formatFromFileName(options.entities);
    if (!format) throw new ValidationFailedError(`--entities: ${options.entities} is not a .parquet, .csv or .jsonl file`);
    return { kind: 'file', path: resolve(options.entities), format, name: basename(options.entities) };
  }
  const from = options.from === undefined ? undefined : requireTimestamp(options.from, '--from');
  const to = options.to === undefined ? undefined : requireTimestamp(options.to, '--to');
  if (options.entityDataset) {
    return {
      kind: 'dataset',
      dataset: options.entityDataset,
      snapshotId: options.snapshot === undefined ? undefined : Number(options.snapshot),
      start: from,
      end: to,
      filters: options.filter.map(parseFilter),
      keyColumns: Object.fromEntries(options.keyColumn.map((pair) => pair.split('=') as [string, string])),
      timestampColumn: options.timestampColumn,
    };
  }
  if (from !== undefined && to !== undefined) return { kind: 'range', start: from, end: to };
  throw new ValidationFailedError('give --entities FILE, --entity-dataset NAME, or --from and --to (every entity\'s rows in a window)');
}

function parseFilter(text: string): RowFilter {
  const [column, op, ...rest] = text.split(':');
  if (!column || !(FILTER_OPS as readonly string[]).includes(op)) {
    throw new ValidationFailedError(`--filter ${text}: use column:op:value with op one of ${FILTER_OPS.join(', ')}`);
  }
  const raw = rest.join(':');
  const value = op === 'in' || op === 'not in' ? raw.split(',').map(scalar) : op.startsWith('is') ? undefined : scalar(raw);
  return { column, op: op as FilterOp, value };
}

/** A number or boolean when it reads as one, else the text. */
function scalar(text: string): unknown {
  if (text === 'true' || text === 'false') return text === 'true';
  return text !== '' && !Number.isNaN(Number(text)) ? Number(text) : text;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}
