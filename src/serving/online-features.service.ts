import { Injectable } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { encodeEntityKey } from '../core/entity-key';
import { EntityRows, parseEntityRows } from '../core/entity-rows';
import { resolveSelection, SelectionRequest } from '../core/feature-selection';
import { fieldStatus, FieldStatus } from '../core/online-status';
import { OnlineRecord } from '../core/online-record';
import { formatTimestamp, Micros, nowMicros } from '../core/timestamp';
import { toJsonValue, Value, ValueType } from '../core/value-types';
import { OnlineStore } from '../online-store/online-store';
import { RegistryService } from '../registry/registry.service';

export interface OnlineFeaturesRequest extends SelectionRequest {
  entities: Record<string, unknown>;
}

/** Feast's GetOnlineFeaturesResponse in JSON: column-major, join keys first. */
export interface OnlineFeaturesResponse {
  metadata: { feature_names: string[] };
  results: { values: Value[]; statuses: FieldStatus[]; event_timestamps: string[] }[];
}

/** Feast prints this for values that have no event time (join keys, missing rows). */
const NO_TIMESTAMP = '1970-01-01T00:00:00Z';

/** Serves online feature vectors: resolve the request, one read from the online store, statuses by ttl. */
@Injectable()
export class OnlineFeaturesService {
  constructor(
    private readonly config: AppConfig,
    private readonly registry: RegistryService,
    private readonly store: OnlineStore,
  ) {}

  async get(request: OnlineFeaturesRequest): Promise<OnlineFeaturesResponse> {
    const catalog = await this.registry.catalog();
    const selection = resolveSelection(catalog, request);
    const rows = parseEntityRows(request.entities, selection.joinKeys, { withTimestamps: false, maxRows: this.config.limits.maxOnlineRows });
    const records = await this.store.read(
      catalog.project,
      selection.views.map(({ view }) => ({ view, entityKeys: entityKeysFor(rows, view.joinKeys.map((k) => k.name)) })),
    );
    const now = nowMicros();
    const results: OnlineFeaturesResponse['results'] = rows.columns.map((col) => ({
      values: col.values.map((v) => toJsonValue(v, col.key.type)),
      statuses: col.values.map(() => 'PRESENT' as const),
      event_timestamps: col.values.map(() => NO_TIMESTAMP),
    }));
    const views = selection.views.map(({ view }, i) => recordStates(records[i], view.def.ttlSeconds, now));
    for (const column of selection.columns) {
      const viewIndex = selection.views.findIndex((v) => v.view.def.name === column.viewName);
      const featureIndex = selection.views[viewIndex].view.def.features.indexOf(column.feature);
      results.push(featureColumn(records[viewIndex], views[viewIndex], featureIndex, column.feature.type));
    }
    return { metadata: { feature_names: [...rows.columns.map((c) => c.key.name), ...selection.columns.map((c) => c.name)] }, results };
  }
}

function entityKeysFor(rows: EntityRows, keyNames: string[]): (string | null)[] {
  const columns = keyNames.map((name) => rows.columns.find((c) => c.key.name === name)!.values);
  return Array.from({ length: rows.rowCount }, (_, row) => encodeEntityKey(columns.map((values) => values[row])));
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
