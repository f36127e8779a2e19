import { EntityRows } from './entity-rows';
import { encodeEntityKey } from './entity-key';
import { FeatureSelection } from './feature-selection';
import { fieldStatus, FieldStatus } from './online-status';
import { OnlineRecord } from './online-record';
import { formatTimestamp, Micros } from './timestamp';
import { toJsonValue, Value, ValueType } from './value-types';

/** Feast's GetOnlineFeaturesResponse in JSON: column-major, join keys first. */
export interface OnlineFeaturesResponse {
  metadata: { feature_names: string[]; feature_view_metadata?: ViewMetadata[] };
  results: { values: Value[]; statuses: FieldStatus[]; event_timestamps: string[] }[];
}

/**
 * Feast's FeatureViewMetadata, sent on request (`include_feature_view_version_metadata`). Feast
 * numbers the versions of a view when view versioning is on, and answers 0 otherwise; featurelake
 * versions the registry as a whole, not views one by one, so every view is version 0.
 */
export interface ViewMetadata {
  name: string;
  version: number;
}

export interface ResponseOptions {
  /** Add `metadata.feature_view_metadata`: each selected view, in selection order. */
  viewMetadata?: boolean;
}

/** Feast prints this for values that have no event time (join keys, missing rows). */
export const NO_TIMESTAMP = '1970-01-01T00:00:00Z';

/** The canonical entity key of every row, for the given join keys (a view's keys, in its order). */
export function entityKeysFor(rows: EntityRows, keyNames: string[]): (string | null)[] {
  const columns = keyNames.map((name) => rows.columns.find((c) => c.key.name === name)!.values);
  return Array.from({ length: rows.rowCount }, (_, row) => encodeEntityKey(columns.map((values) => values[row])));
}

/**
 * Builds the response from what the online store returned: `records[v][row]` for each selected
 * view v. Statuses follow the ttl at `now`; a value outside it is not returned.
 */
export function buildOnlineResponse(rows: EntityRows, selection: FeatureSelection, records: (OnlineRecord | null)[][], now: Micros, options: ResponseOptions = {}): OnlineFeaturesResponse {
  const results: OnlineFeaturesResponse['results'] = rows.columns.map((col) => ({
    values: col.values.map((v) => toJsonValue(v, col.key.type)),
    statuses: col.values.map(() => 'PRESENT' as const),
    event_timestamps: col.values.map(() => NO_TIMESTAMP),
  }));
  const states = selection.views.map(({ view }, i) => recordStates(records[i], view.def.ttlSeconds, now));
  for (const column of selection.columns) {
    const viewIndex = selection.views.findIndex((v) => v.view.def.name === column.viewName);
    const featureIndex = selection.views[viewIndex].view.def.features.indexOf(column.feature);
    results.push(featureColumn(records[viewIndex], states[viewIndex], featureIndex, column.feature.type));
  }
  const names = [...rows.columns.map((c) => c.key.name), ...selection.columns.map((c) => c.name)];
  return { metadata: options.viewMetadata ? { feature_names: names, feature_view_metadata: viewMetadata(selection) } : { feature_names: names }, results };
}

function viewMetadata(selection: FeatureSelection): ViewMetadata[] {
  return selection.views.map(({ view }) => ({ name: view.def.name, version: 0 }));
}

/** Which response columns hold floats (join keys first, then the features): printed as floats (floatJson). */
export function floatColumns(rows: EntityRows, selection: FeatureSelection): boolean[] {
  return [...rows.columns.map((c) => isFloat(c.key.type)), ...selection.columns.map((c) => isFloat(c.feature.type))];
}

function isFloat(type: ValueType): boolean {
  return type === 'float32' || type === 'float64';
}

/**
 * A float as JSON that Feast's Python client reads as a float: Python's json makes `12` an int
 * (and `100000000000000000000` an int too big for int64), so an integral value gets `.0`, or an
 * exponent past 2^53 where JavaScript would print every digit.
 */
export function floatJson(value: number): string {
  if (!Number.isFinite(value)) return JSON.stringify(String(value)); // JSON has no NaN: as text, like every other value
  if (!Number.isInteger(value)) return String(value); // has a point or an exponent already
  return Math.abs(value) < 1e16 ? `${value}.0` : value.toExponential();
}

/** Per record of one view: found or not, within ttl or not, and its event time as text (computed once). */
interface RecordState {
  status: 'NOT_FOUND' | 'OUTSIDE_MAX_AGE' | 'FOUND';
  timestamp: string;
}

function recordStates(records: (OnlineRecord | null)[], ttlSeconds: number | null, now: Micros): RecordState[] {
  let lastMicros: Micros | undefined;
  let lastText = NO_TIMESTAMP;
  return records.map((record) => {
    if (!record) return { status: 'NOT_FOUND', timestamp: NO_TIMESTAMP };
    // Rows of one materialization share event times: format each distinct one once.
    if (record.eventTimestamp !== lastMicros) {
      lastMicros = record.eventTimestamp;
      lastText = formatTimestamp(record.eventTimestamp);
    }
    const status = fieldStatus(record.eventTimestamp, 0, ttlSeconds, now) === 'OUTSIDE_MAX_AGE' ? 'OUTSIDE_MAX_AGE' : 'FOUND';
    return { status, timestamp: lastText };
  });
}

function featureColumn(
  records: (OnlineRecord | null)[],
  states: RecordState[],
  featureIndex: number,
  type: ValueType,
): OnlineFeaturesResponse['results'][number] {
  const column: OnlineFeaturesResponse['results'][number] = { values: [], statuses: [], event_timestamps: [] };
  records.forEach((record, i) => {
    const { status, timestamp } = states[i];
    const value = status === 'FOUND' ? (record as OnlineRecord).values[featureIndex] : null;
    const fieldState: FieldStatus = status !== 'FOUND' ? status : value === null ? 'NULL_VALUE' : 'PRESENT';
    column.values.push(fieldState === 'PRESENT' ? toJsonValue(value, type) : null);
    column.statuses.push(fieldState);
    column.event_timestamps.push(timestamp);
  });
  return column;
}

/**
 * buildOnlineResponse and onlineResponseJson in one pass, without the intermediate object: the
 * serving hot path. Produces exactly onlineResponseJson(buildOnlineResponse(…)).
 */
export function writeOnlineResponseJson(rows: EntityRows, selection: FeatureSelection, records: (OnlineRecord | null)[][], now: Micros, options: ResponseOptions = {}): string {
  const names = [...rows.columns.map((c) => c.key.name), ...selection.columns.map((c) => c.name)];
  let out = `{"metadata":{"feature_names":${JSON.stringify(names)}${options.viewMetadata ? `,"feature_view_metadata":${JSON.stringify(viewMetadata(selection))}` : ''}},"results":[`;
  const keyStatuses = `["${Array(rows.rowCount).fill('PRESENT').join('","')}"]`;
  const keyTimestamps = `["${Array(rows.rowCount).fill(NO_TIMESTAMP).join('","')}"]`;
  rows.columns.forEach((col, i) => {
    out += `${i > 0 ? ',' : ''}{"values":${valuesJson(col.values.map((v) => toJsonValue(v, col.key.type)))},"statuses":${keyStatuses},"event_timestamps":${keyTimestamps}}`;
  });
  const states = selection.views.map(({ view }, i) => recordStates(records[i], view.def.ttlSeconds, now));
  const timestamps = states.map((list) => `["${list.map((s) => s.timestamp).join('","')}"]`);
  for (const column of selection.columns) {
    const viewIndex = selection.views.findIndex((v) => v.view.def.name === column.viewName);
    const featureIndex = selection.views[viewIndex].view.def.features.indexOf(column.feature);
    const viewRecords = records[viewIndex];
    const viewStates = states[viewIndex];
    const float = isFloat(column.feature.type);
    let values = '[';
    let statuses = '["';
    for (let row = 0; row < viewRecords.length; row++) {
      const state = viewStates[row];
      const value = state.status === 'FOUND' ? (viewRecords[row] as OnlineRecord).values[featureIndex] : null;
      const status = state.status !== 'FOUND' ? state.status : value === null ? 'NULL_VALUE' : 'PRESENT';
      if (row > 0) {
        values += ',';
        statuses += '","';
      }
      if (status !== 'PRESENT') values += 'null';
      else if (float && typeof value === 'number') values += floatJson(value);
      else values += valueJson(toJsonValue(value, column.feature.type));
      statuses += status;
    }
    out += `,{"values":${values}],"statuses":${statuses}"],"event_timestamps":${timestamps[viewIndex]}}`;
  }
  return `${out}]}`;
}

/**
 * The response as JSON text, written directly: an order of magnitude faster than a generic
 * walk for this fixed shape (it is most of a request's CPU otherwise). Statuses and timestamps
 * are our own fixed-alphabet strings and need no escaping; values are written by type, int64
 * exactly.
 */
export function onlineResponseJson(response: OnlineFeaturesResponse, floats: boolean[] = []): string {
  const { metadata, results } = response;
  const views = metadata.feature_view_metadata ? `,"feature_view_metadata":${JSON.stringify(metadata.feature_view_metadata)}` : '';
  let out = `{"metadata":{"feature_names":${JSON.stringify(metadata.feature_names)}${views}},"results":[`;
  for (let i = 0; i < results.length; i++) {
    const column = results[i];
    if (i > 0) out += ',';
    out += `{"values":${valuesJson(column.values, floats[i] ?? false)},"statuses":["${column.statuses.join('","')}"],"event_timestamps":["${column.event_timestamps.join('","')}"]}`;
  }
  return `${out}]}`;
}

function valuesJson(values: Value[], float = false): string {
  let out = '[';
  for (let i = 0; i < values.length; i++) {
    const value = values[i];
    out += (i > 0 ? ',' : '') + (float && typeof value === 'number' ? floatJson(value) : valueJson(value));
  }
  return `${out}]`;
}

function valueJson(value: Value): string {
  if (value === null) return 'null';
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : 'null';
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  return JSON.stringify(value);
}
