import { ValidationFailedError } from '../common/errors';
import { isPlainObject } from '../common/field-reader';
import { Micros, requireTimestamp } from '../core/timestamp';
import { FileFormat } from '../lake/dataset-manifest';
import { FILTER_OPS, FilterOp, RowFilter } from '../offline-store/offline-store';

/** Where the entity rows of a historical request come from (exactly one per request). */
export type EntitySource =
  | { kind: 'columns'; columns: Record<string, unknown> }
  /** `key`: the file is in the lake (sent by a server to its worker), not at `path`. */
  | { kind: 'file'; path: string; format: FileFormat; name: string; key?: string }
  | { kind: 'dataset'; dataset: string; snapshotId?: number; start?: Micros; end?: Micros; filters: RowFilter[]; keyColumns: Record<string, string>; timestampColumn?: string }
  | { kind: 'range'; start: Micros; end: Micros };

export interface EntitySourceBody {
  entities?: Record<string, unknown>;
  entity_dataset?: Record<string, unknown>;
  time_range?: Record<string, unknown>;
}

/** Reads the entity-row part of a request body; every problem is named by its field path. */
export function parseEntitySource(body: EntitySourceBody): EntitySource {
  const given = (['entities', 'entity_dataset', 'time_range'] as const).filter((k) => body[k] !== undefined);
  if (given.length !== 1) {
    throw new ValidationFailedError(`give exactly one of entities, entity_dataset and time_range (got ${given.join(', ') || 'none'})`, {
      fields: ['entities', 'entity_dataset', 'time_range'],
    });
  }
  if (body.entities !== undefined) return { kind: 'columns', columns: body.entities };
  if (body.time_range !== undefined) {
    const range = object(body.time_range, 'time_range', ['start', 'end']);
    const start = timestamp(range.start, 'time_range.start');
    const end = timestamp(range.end, 'time_range.end');
    if (start > end) throw new ValidationFailedError('time_range: start is after end', { field: 'time_range' });
    return { kind: 'range', start, end };
  }
  return parseDataset(object(body.entity_dataset, 'entity_dataset', ['name', 'snapshot_id', 'start', 'end', 'filters', 'key_columns', 'timestamp_column']));
}

function parseDataset(raw: Record<string, unknown>): EntitySource {
  const name = text(raw.name, 'entity_dataset.name');
  if (!name) throw new ValidationFailedError('entity_dataset.name: is required', { field: 'entity_dataset.name' });
  const snapshotId = raw.snapshot_id;
  if (snapshotId !== undefined && !(Number.isInteger(snapshotId) && (snapshotId as number) > 0)) {
    throw new ValidationFailedError('entity_dataset.snapshot_id: must be a positive whole number', { field: 'entity_dataset.snapshot_id' });
  }
  const keyColumns = raw.key_columns === undefined ? {} : object(raw.key_columns, 'entity_dataset.key_columns', null);
  for (const [key, column] of Object.entries(keyColumns)) text(column, `entity_dataset.key_columns.${key}`);
  const filters = raw.filters === undefined ? [] : raw.filters;
  if (!Array.isArray(filters)) throw new ValidationFailedError('entity_dataset.filters: must be a list', { field: 'entity_dataset.filters' });
  return {
    kind: 'dataset',
    dataset: name,
    snapshotId: snapshotId as number | undefined,
    start: raw.start === undefined ? undefined : timestamp(raw.start, 'entity_dataset.start'),
    end: raw.end === undefined ? undefined : timestamp(raw.end, 'entity_dataset.end'),
    filters: filters.map((f, i) => parseFilter(f, `entity_dataset.filters[${i}]`)),
    keyColumns: keyColumns as Record<string, string>,
    timestampColumn: raw.timestamp_column === undefined ? undefined : text(raw.timestamp_column, 'entity_dataset.timestamp_column'),
  };
}

function parseFilter(raw: unknown, field: string): RowFilter {
  const filter = object(raw, field, ['column', 'op', 'value']);
  const op = filter.op;
  if (typeof op !== 'string' || !(FILTER_OPS as readonly string[]).includes(op)) {
    throw new ValidationFailedError(`${field}.op: must be one of ${FILTER_OPS.join(', ')}`, { field: `${field}.op` });
  }
  return { column: text(filter.column, `${field}.column`), op: op as FilterOp, value: filter.value };
}

function object(raw: unknown, field: string, allowed: string[] | null): Record<string, unknown> {
  if (!isPlainObject(raw)) throw new ValidationFailedError(`${field}: must be an object`, { field });
  if (allowed) {
    for (const key of Object.keys(raw)) {
      if (!allowed.includes(key)) throw new ValidationFailedError(`${field}.${key}: unknown field (allowed: ${allowed.join(', ')})`, { field: `${field}.${key}` });
    }
  }
  return raw;
}

function text(raw: unknown, field: string): string {
  if (typeof raw !== 'string' || raw === '') throw new ValidationFailedError(`${field}: must be a non-empty string`, { field });
  return raw;
}

function timestamp(raw: unknown, field: string): Micros {
  if (typeof raw !== 'string') throw new ValidationFailedError(`${field}: must be an ISO-8601 timestamp`, { field });
  return requireTimestamp(raw, field);
}
