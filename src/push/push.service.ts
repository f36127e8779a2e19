import { Injectable } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { IdempotencyKeyInUseError, IdempotencyKeyReusedError, InvalidPushError } from '../common/errors';
import { AppConfig } from '../config/app-config';
import { TempFiles } from '../common/temp-files';
import { withWorkControl } from '../common/work-control';
import { ResolvedView } from '../core/catalog';
import { coerceColumn, columnMapLength } from '../core/column-map';
import { DatasetDef } from '../core/definitions';
import { encodeEntityKey } from '../core/entity-key';
import { stringifyJson } from '../core/json';
import { OnlineRecord } from '../core/online-record';
import { Value } from '../core/value-types';
import { DatasetService } from '../lake/dataset.service';
import { IdempotencyRecord, IdempotencyStore } from '../lake/idempotency.store';
import { IngestChecks } from '../lake/ingest-checks';
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
  /** True when this is the stored answer to an earlier request with the same Idempotency-Key. */
  replayed?: boolean;
}

/** Rows checked and turned into what each store gets, before anything is written. */
interface PreparedPush {
  project: string;
  dataset: DatasetDef;
  views: ResolvedView[];
  rows: number;
  perView: { view: ResolvedView; records: OnlineRecord[] }[];
}

/**
 * A keyed push still `pending` after this long was abandoned (its process died): a retry takes
 * it over. The offline half of a push is stopped before then (PUSH_TIMEOUT_SECONDS), so an
 * abandoned attempt can no longer commit when its key is taken over.
 */
const PUSH_LEASE_MS = 5 * 60_000;
const PUSH_TIMEOUT_SECONDS = 4 * 60;

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
    private readonly idempotency: IdempotencyStore,
    private readonly checks: IngestChecks,
  ) {}

  /**
   * Applies a push. With an `idempotencyKey` it is applied at most once: a retry with the same
   * key and request gets the first answer again (replayed), even when the first attempt's
   * process was killed between the lake commit and the answer — the record in the lake names
   * the data file that commit adds, so the retry finds it and finishes only the online half.
   */
  async push(request: PushRequest, idempotencyKey?: string): Promise<PushResult> {
    const prepared = await this.prepare(request);
    if (idempotencyKey === undefined) return this.apply(request, prepared, {});
    return this.applyOnce(request, prepared, idempotencyKey);
  }

  private async applyOnce(request: PushRequest, prepared: PreparedPush, key: string): Promise<PushResult> {
    const scope = `push/${request.pushSourceName}`;
    const requestHash = createHash('sha256').update(stringifyJson({ to: request.to, df: request.df })).digest('hex');
    const existing = await this.idempotency.get(scope, key);
    if (existing && existing.requestHash !== requestHash) {
      throw new IdempotencyKeyReusedError('Idempotency-Key: this key was used for a different push; use a new key for new data', { field: 'Idempotency-Key' });
    }
    if (existing?.state === 'done') return { ...(existing.response as PushResult), replayed: true };
    if (existing) {
      const committed = await this.committedSnapshot(prepared.dataset, existing.stagedKeys ?? []);
      if (committed !== null) return this.finish(scope, key, existing, await this.apply(request, prepared, { committedSnapshot: committed }));
      if (Date.now() - Date.parse(existing.createdAt) < PUSH_LEASE_MS) throw inUse();
    }
    const record: IdempotencyRecord = { state: 'pending', requestHash, createdAt: new Date().toISOString(), stagedKeys: request.to === 'online' ? [] : [this.datasets.newFileKey(prepared.dataset.name)] };
    if (existing) await this.idempotency.put(scope, key, record);
    else if (!(await this.idempotency.begin(scope, key, record))) throw inUse();
    try {
      return await this.finish(scope, key, record, await this.apply(request, prepared, { fileKeys: record.stagedKeys }));
    } catch (error) {
      // Nothing committed: forget the key so that a retry starts afresh. Committed: keep it, a retry finishes online.
      if ((await this.committedSnapshot(prepared.dataset, record.stagedKeys ?? []).catch(() => 0)) === null) await this.idempotency.remove(scope, key).catch(() => undefined);
      throw error;
    }
  }

  private async finish(scope: string, key: string, record: IdempotencyRecord, result: PushResult): Promise<PushResult> {
    await this.idempotency.put(scope, key, { state: 'done', requestHash: record.requestHash, createdAt: record.createdAt, response: result });
    return result;
  }

  private async committedSnapshot(dataset: DatasetDef, stagedKeys: string[]): Promise<number | null> {
    return stagedKeys.length === 0 ? null : this.datasets.snapshotAdding(dataset.name, stagedKeys[0]);
  }

  /**
   * Rows straight into a view's online table (Feast's /write-to-online-store): checked and
   * typed as a push's are, written with the same newer-wins rule; nothing goes to the lake.
   */
  async writeToView(viewName: string, df: Record<string, unknown>): Promise<{ rows: number }> {
    const catalog = await this.registry.catalog();
    const view = catalog.view(viewName);
    if (!view.def.online) throw new InvalidPushError(`feature_view_name: feature view ${view.def.name} is not online (online: false)`, { field: 'feature_view_name' });
    const rows = columnMapLength(df, 'df', { max: this.config.limits.maxPushRows, field: 'limits.max_push_rows' }, InvalidPushError);
    // Feast's client names the times event_timestamp and created, whatever the source calls them.
    const columns = { event: presentColumn(df, view.dataset.timestampField, 'event_timestamp'), created: presentColumn(df, view.dataset.createdTimestampField, 'created') };
    const records = toRecords(view, df, rows, columns);
    // The dataset's rules hold for what reaches its views online too; its time columns may be named Feast's way here.
    const renamed = new Map([[view.dataset.timestampField, columns.event], [view.dataset.createdTimestampField, columns.created]]);
    this.checks.checkRows(view.dataset, df as Record<string, unknown[]>, rows, (name: string) => renamed.get(name) ?? name);
    await this.online.write(catalog.project, view, records);
    return { rows };
  }

  /** Everything is checked, and turned into what each store gets, before anything is written. */
  private async prepare(request: PushRequest): Promise<PreparedPush> {
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
    const times = { event: dataset.timestampField as string, created: dataset.createdTimestampField && dataset.createdTimestampField in request.df ? dataset.createdTimestampField : null };
    const perView = toOnline ? views.map((view) => ({ view, records: toRecords(view, request.df, rows, times) })) : [];
    this.checks.checkRows(dataset, request.df as Record<string, unknown[]>, rows);
    return { project: catalog.project, dataset, views, rows, perView };
  }

  /** Offline first (a lake snapshot, or the one an earlier attempt committed), then online. */
  private async apply(request: PushRequest, prepared: PreparedPush, options: { fileKeys?: string[]; committedSnapshot?: number }): Promise<PushResult> {
    const { dataset, views, rows, perView } = prepared;
    let offline: PushResult['offline'] = null;
    if (options.committedSnapshot !== undefined) offline = { dataset: dataset.name, snapshotId: options.committedSnapshot };
    else if (request.to !== 'online') offline = await this.toLake(dataset, request.df, options.fileKeys);
    for (const { view, records } of perView) await this.online.write(prepared.project, view, records);
    return {
      rows,
      online: request.to !== 'offline' ? { views: views.map((v) => v.def.name), rows: rows * views.length } : null,
      offline,
    };
  }

  /** The rows as a JSON Lines file, ingested like any other: cast to, and checked against, the dataset's schema. */
  private async toLake(dataset: DatasetDef, df: Record<string, unknown>, fileKeys?: string[]): Promise<PushResult['offline']> {
    const names = Object.keys(df);
    const length = (df[names[0]] as unknown[]).length;
    const lines = Array.from({ length }, (_, row) => stringifyJson(Object.fromEntries(names.map((n) => [n, (df[n] as unknown[])[row]]))));
    const path = await this.temp.write('.jsonl', `${lines.join('\n')}\n`);
    try {
      // Bounded well within the lease, so an abandoned attempt cannot commit after its key was taken over.
      const budget = { timeout: { seconds: PUSH_TIMEOUT_SECONDS, field: "a push's time budget" } };
      const snapshot = await withWorkControl(budget, (signal) => this.datasets.ingest(dataset.name, [{ path, format: 'jsonl', name: 'push' }], { fileKeys, signal, expectationsChecked: true, allowDuplicate: true }));
      return { dataset: dataset.name, snapshotId: snapshot.snapshotId };
    } finally {
      await this.temp.remove(path);
    }
  }
}

/** The first of the names that is a column of `df` (the event time's name when none is: its absence is then reported by name). */
function presentColumn(df: Record<string, unknown>, ...names: (string | undefined | null)[]): string {
  const given = names.filter((n): n is string => Boolean(n));
  return given.find((n) => n in df) ?? given[0];
}

/**
 * The pushed rows as online records of one view, typed by its declaration, the event time from
 * column `times.event` and the created time from `times.created` when given; errors name
 * df.<column>[row].
 */
function toRecords(view: ResolvedView, df: Record<string, unknown>, rows: number, times: { event: string; created: string | null }): OnlineRecord[] {
  const column = (name: string, type: Parameters<typeof coerceColumn>[2], what: string): Value[] => {
    if (!(name in df)) throw new InvalidPushError(`df.${name}: missing; feature view ${view.def.name} needs it`, { field: `df.${name}` });
    return coerceColumn(`df.${name}`, df[name] as unknown[], type, what, InvalidPushError);
  };
  const keys = view.joinKeys.map((k) => column(k.name, k.type, `join key ${k.name}`));
  const events = column(times.event, 'timestamp', 'the event time');
  const created = times.created && times.created in df ? column(times.created, 'timestamp', 'the created time') : null;
  const features = view.def.features.map((f) => column(f.name, f.type, `feature ${view.def.name}:${f.name}`));
  const records: OnlineRecord[] = [];
  for (let row = 0; row < rows; row++) {
    const entityKey = encodeEntityKey(keys.map((values) => values[row]));
    if (entityKey === null) throw new InvalidPushError(`df: row ${row} has a null join key`, { field: 'df' });
    if (events[row] === null) throw new InvalidPushError(`df.${times.event}[${row}]: missing event time`, { field: `df.${times.event}[${row}]` });
    records.push({
      entityKey,
      eventTimestamp: events[row] as bigint,
      createdTimestamp: (created?.[row] ?? null) as bigint | null,
      values: features.map((values) => values[row]),
    });
  }
  return records;
}

function inUse(): IdempotencyKeyInUseError {
  return new IdempotencyKeyInUseError('Idempotency-Key: a push with this key is still being applied; retry in a moment', { field: 'Idempotency-Key' });
}
