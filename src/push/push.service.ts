import { Injectable } from '@nestjs/common';
import { InvalidPushError } from '../common/errors';
import { AppConfig } from '../config/app-config';
import { TempFiles } from '../common/temp-files';
import { ResolvedView } from '../core/catalog';
import { coerceColumn, columnMapLength } from '../core/column-map';
import { DatasetDef } from '../core/definitions';
import { encodeEntityKey } from '../core/entity-key';
import { stringifyJson } from '../core/json';
import { OnlineRecord } from '../core/online-record';
import { Value } from '../core/value-types';
import { DatasetService } from '../lake/dataset.service';
import { OnlineStore } from '../online-store/online-store';
import { RegistryService } from '../registry/registry.service';
import { PushTarget } from './dto/push.dto';

export interface PushRequest {
  pushSourceName: string;
  df: Record<string, unknown>;
  to: PushTarget;
}

export interface PushResult {
  rows: number;
  online: { views: string[]; rows: number } | null;
  offline: { dataset: string; snapshotId: number } | null;
}

/**
 * Feast's push: rows for a push source go to the lake as a new snapshot of its dataset
 * (offline), and straight into the online table of every feature view that reads the dataset
 * without SQL (online) — where a newer value already stored wins, as with materialization.
 * Everything is validated before anything is written.
 */
@Injectable()
export class PushService {
  constructor(
    private readonly config: AppConfig,
    private readonly registry: RegistryService,
    private readonly datasets: DatasetService,
    private readonly online: OnlineStore,
    private readonly temp: TempFiles,
  ) {}

  async push(request: PushRequest): Promise<PushResult> {
    const catalog = await this.registry.catalog();
    const source = catalog.pushSource(request.pushSourceName);
    const dataset = catalog.dataset(source.dataset);
    const views = catalog.viewsFedBy(dataset.name);
    const toOnline = request.to !== 'offline';
    if (toOnline && views.length === 0) {
      throw new InvalidPushError(`push source ${source.name} feeds no feature view online (no view reads dataset ${dataset.name} without sql); push to: offline`, {
        field: 'to',
      });
    }
    const rows = columnMapLength(request.df, 'df', { max: this.config.limits.maxPushRows, field: 'limits.max_push_rows' }, InvalidPushError);
    const perView = toOnline ? views.map((view) => ({ view, records: toRecords(view, dataset, request.df, rows) })) : [];
    const offline = request.to === 'online' ? null : await this.toLake(dataset, request.df);
    for (const { view, records } of perView) await this.online.write(catalog.project, view, records);
    return {
      rows,
      online: toOnline ? { views: views.map((v) => v.def.name), rows: rows * views.length } : null,
      offline,
    };
  }

  /** The rows as a JSON Lines file, ingested like any other: cast to, and checked against, the dataset's schema. */
  private async toLake(dataset: DatasetDef, df: Record<string, unknown>): Promise<PushResult['offline']> {
    const names = Object.keys(df);
    const length = (df[names[0]] as unknown[]).length;
    const lines = Array.from({ length }, (_, row) => stringifyJson(Object.fromEntries(names.map((n) => [n, (df[n] as unknown[])[row]]))));
    const path = await this.temp.write('.jsonl', `${lines.join('\n')}\n`);
    try {
      const snapshot = await this.datasets.ingest(dataset.name, [{ path, format: 'jsonl', name: 'push' }]);
      return { dataset: dataset.name, snapshotId: snapshot.snapshotId };
    } finally {
      await this.temp.remove(path);
    }
  }
}

/** The pushed rows as online records of one view, typed by its declaration; errors name df.<column>[row]. */
function toRecords(view: ResolvedView, dataset: DatasetDef, df: Record<string, unknown>, rows: number): OnlineRecord[] {
  const column = (name: string, type: Parameters<typeof coerceColumn>[2], what: string): Value[] => {
    if (!(name in df)) throw new InvalidPushError(`df.${name}: missing; feature view ${view.def.name} needs it`, { field: `df.${name}` });
    return coerceColumn(`df.${name}`, df[name] as unknown[], type, what, InvalidPushError);
  };
  const keys = view.joinKeys.map((k) => column(k.name, k.type, `join key ${k.name}`));
  const events = column(dataset.timestampField as string, 'timestamp', 'the event time');
  const created = dataset.createdTimestampField && dataset.createdTimestampField in df ? column(dataset.createdTimestampField, 'timestamp', 'the created time') : null;
  const features = view.def.features.map((f) => column(f.name, f.type, `feature ${view.def.name}:${f.name}`));
  const records: OnlineRecord[] = [];
  for (let row = 0; row < rows; row++) {
    const entityKey = encodeEntityKey(keys.map((values) => values[row]));
    if (entityKey === null) throw new InvalidPushError(`df: row ${row} has a null join key`, { field: 'df' });
    if (events[row] === null) throw new InvalidPushError(`df.${dataset.timestampField}[${row}]: missing event time`, { field: `df.${dataset.timestampField}[${row}]` });
    records.push({
      entityKey,
      eventTimestamp: events[row] as bigint,
      createdTimestamp: (created?.[row] ?? null) as bigint | null,
      values: features.map((values) => values[row]),
    });
  }
  return records;
}
