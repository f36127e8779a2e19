import { DuckDBValue } from '@duckdb/node-api';
import { randomUUID } from 'node:crypto';
import { TempFiles } from '../common/temp-files';
import { ResolvedView } from '../core/catalog';
import { encodeEntityKey } from '../core/entity-key';
import { OnlineRecord } from '../core/online-record';
import { Micros, parseTimestamp } from '../core/timestamp';
import { DuckDbDatabase } from '../duckdb/duckdb-database';
import { quoteLiteral, quotePathList } from '../duckdb/sql-text';
import { fromDuckDb, micros } from '../duckdb/values';
import { ObjectStore } from '../storage/object-store';
import { BucketPlan, planBucket } from './bucket-plan';
import { BucketOutput, BucketWritten, writeBucketRows } from './bucket-work';
import { LakeReads } from './lake-reads';
import { keyList } from './offline-sql';
import { BucketRequest, BucketRun, PendingBatch, RunControl, SourceSnapshot, ViewState } from './offline-store';
import { applyBucketChange, BucketChange, BucketState, clearPending, markAllPending, nextVersion, pendingAppendsOnly, pendingFiles, pendingWindows, ViewFile, ViewManifest, WindowReplace, withoutShadowed } from './view-manifest';
import { ViewOutputs } from './view-outputs';
import { BUCKET, HASH_PROBE_SQL, hiddenByWindowsSql, latestRowsSql, mergedRowsSql, VERSION } from './view-sql';

const NOTHING_WRITTEN: BucketWritten = { rows: 0, minTs: null, maxTs: null, unique: true, replaced: 0 };
const UP_TO_DATE = 'up to date: no new data in the lake and nothing newer than the last run to add';

/** Plans that read the same files for the same scope can share one pass. */
function planKey(plan: Extract<BucketPlan, { upToDate: false }>): string {
  return JSON.stringify({ scope: plan.scope, files: plan.files, inputFrom: plan.inputFrom, replaceAll: plan.replaceAll, windows: plan.windows }, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
}

/** A bucket with more files than this is compacted into one once nothing in it is pending online. */
export const COMPACT_AT_FILES = 8;

/**
 * The offline store in the lake: each feature view's rows as Parquet files per hash bucket of
 * the entity key (view-manifest.ts), written by bucket tasks that any process can run, and read
 * by DuckDB (this process's instance, bounded like every other) through views over those files.
 */
export class LakeOfflineStore extends LakeReads {
  private probe?: Promise<string>;

  constructor(
    db: DuckDbDatabase,
    store: ObjectStore,
    outputs: ViewOutputs,
    private readonly temp: TempFiles,
    private readonly compactAtFiles = COMPACT_AT_FILES,
  ) {
    super(db, store, outputs);
  }

  dropAll(): Promise<{ views: number; objects: number }> {
    return this.outputs.dropAll();
  }

  async viewState(view: ResolvedView): Promise<ViewState> {
    const manifest = await this.outputs.latest(view);
    if (!manifest) return { buckets: this.outputs.defaultBuckets, consumedSnapshot: null, watermark: null, pendingBuckets: 0, onlineEpoch: null, hasRows: false };
    const states = manifest.bucketStates;
    const consumed = states.map((s) => s.consumedSnapshot);
    const watermarks = states.map((s) => (s.watermark === null ? null : (parseTimestamp(s.watermark) as Micros)));
    return {
      buckets: manifest.buckets,
      consumedSnapshot: consumed.includes(null) ? null : Math.min(...(consumed as number[])),
      watermark: watermarks.includes(null) ? null : (watermarks as Micros[]).reduce((a, b) => (b < a ? b : a)),
      pendingBuckets: states.filter((s) => s.pendingAll || s.pendingFrom !== null).length,
      onlineEpoch: manifest.onlineEpoch,
      hasRows: states.some((s) => s.files.some((f) => f.rows > 0)),
    };
  }

  async materializeBuckets(view: ResolvedView, buckets: number[], source: SourceSnapshot, request: BucketRequest, control: RunControl = {}): Promise<Map<number, BucketRun>> {
    const probe = await this.hashProbe();
    const manifest = await this.outputs.current(view, probe);
    const runs = new Map<number, BucketRun>();
    const groups = new Map<string, { plan: Extract<BucketPlan, { upToDate: false }>; buckets: number[] }>();
    for (const bucket of buckets) {
      const plan = planBucket(view, manifest.bucketStates[bucket], source, request);
      // Up to date because an earlier try of this very task committed it (its worker died after): its rows count.
      const committed = manifest.bucketStates[bucket].committedBy;
      const earlierTry = request.jobId !== undefined && committed?.job === request.jobId ? committed.rows : 0;
      if (plan.upToDate) runs.set(bucket, { rowsWritten: earlierTry, newRows: plan.newRows, ...(earlierTry > 0 ? {} : { note: UP_TO_DATE }) });
      else groups.set(planKey(plan), { plan, buckets: [...(groups.get(planKey(plan))?.buckets ?? []), bucket] });
    }
    // Buckets in the same state share one pass over the source (a first run: all of them).
    for (const { plan, buckets: group } of groups.values()) {
      for (const [bucket, run] of await this.runGroup(view, manifest, probe, plan, group, control, request.jobId)) runs.set(bucket, run);
    }
    return runs;
  }

  /** Computes a group of buckets, uploads their files and commits them in one manifest commit; nothing stays in the lake if it fails. */
  private async runGroup(view: ResolvedView, manifest: ViewManifest, probe: string, plan: Extract<BucketPlan, { upToDate: false }>, buckets: number[], control: RunControl, jobId?: string): Promise<Map<number, BucketRun>> {
    const now = Date.now() * 1000;
    const outputs = await Promise.all(buckets.map(async (bucket) => ({ bucket, version: nextVersion(manifest.bucketStates[bucket], now), dataPath: await this.temp.path('.parquet'), sidecarPath: await this.temp.path('.parquet') })));
    const uploaded: string[] = [];
    try {
      const work = { view, outputs, buckets: manifest.buckets, files: plan.files, inputFrom: plan.inputFrom, scope: plan.scope };
      const written = plan.files.length === 0 ? new Map<number, BucketWritten>() : await this.db.withConnection((c) => writeBucketRows(c, work, control), control.signal);
      const changes = new Map<number, BucketChange>();
      for (const output of outputs) {
        const rows = written.get(output.bucket) ?? NOTHING_WRITTEN;
        const add = rows.rows > 0 ? [await this.uploadFiles(view, output, rows, uploaded)] : [];
        const windows = plan.windows.map((w) => ({ ...w, version: output.version }));
        changes.set(output.bucket, { readRevision: manifest.bucketStates[output.bucket].revision, add, replaceAll: plan.replaceAll, windows, consumedSnapshot: plan.consumedSnapshot, watermark: plan.watermark, markPending: view.def.online, ...(jobId ? { committedBy: { job: jobId, rows: rows.rows } } : {}) });
      }
      if (control.signal?.aborted) throw control.signal.reason;
      await this.outputs.commit(view, probe, (latest) => [...changes].reduce((m, [bucket, change]) => applyBucketChange(m, bucket, change), latest));
      return new Map(outputs.map((o) => [o.bucket, { rowsWritten: written.get(o.bucket)?.rows ?? 0, newRows: plan.newRows }]));
    } catch (error) {
      await this.store.delete(uploaded).catch(() => undefined); // nothing of an uncommitted task stays in the lake
      throw error;
    } finally {
      await this.temp.remove(...outputs.flatMap((o) => [o.dataPath, o.sidecarPath]));
    }
  }

  private async uploadFiles(view: ResolvedView, output: BucketOutput, written: BucketWritten, uploaded: string[]): Promise<ViewFile> {
    const { bucket, version } = output;
    const file: ViewFile = { key: this.outputs.fileKey(view, bucket, version, randomUUID()), version, rows: written.rows, minTs: written.minTs, maxTs: written.maxTs, unique: written.unique };
    if (written.replaced > 0) file.replacesKey = this.outputs.fileKey(view, bucket, version, randomUUID(), true);
    await this.upload(uploaded, file.key, output.dataPath);
    if (file.replacesKey) await this.upload(uploaded, file.replacesKey, output.sidecarPath);
    return file;
  }

  async *pendingOnline(view: ResolvedView, bucket: number, batchSize: number): AsyncIterable<PendingBatch> {
    const manifest = await this.outputs.latest(view);
    const state = manifest?.bucketStates[bucket];
    if (!manifest || !state || (!state.pendingAll && state.pendingFrom === null)) return;
    // Appends newer than everything else: the newest rows are in the pending files alone.
    const source = pendingAppendsOnly(state) ? { ...state, files: pendingFiles(state) } : state;
    const rows = mergedRowsSql(view, await this.outputs.mergeInput([{ bucket, state: source }]));
    const entities = state.pendingAll ? rows : await this.pendingEntitiesSql(view, bucket, state);
    const ack = async () => void (await this.outputs.commit(view, manifest.hashProbe, (latest) => clearPending(latest, bucket, state)));
    if (entities === null) {
      yield { records: [], ack };
      return;
    }
    try {
      yield* this.latestBatches(view, latestRowsSql(view, rows, entities), batchSize, ack);
    } catch (error) {
      throw this.db.describeError(error);
    }
  }

  async compactBucket(view: ResolvedView, bucket: number, minFiles = this.compactAtFiles + 1): Promise<boolean> {
    const manifest = await this.outputs.latest(view);
    const state = manifest?.bucketStates[bucket];
    if (!manifest || !state || state.pendingAll || state.pendingFrom !== null) return false;
    // Files a later window hides entirely are dropped from the manifest, no rewrite: reads stop merging them at once.
    const pruned = withoutShadowed(state);
    if (pruned) {
      await this.outputs.commit(view, manifest.hashProbe, (latest) => applyBucketChange(latest, bucket, { readRevision: state.revision, add: pruned.files, replaceAll: true, windows: pruned.windows, markPending: false }));
      return true;
    }
    if (state.files.length < Math.max(2, minFiles)) return false;
    const version = nextVersion(state, Date.now() * 1000);
    const path = await this.temp.path('.parquet');
    const key = this.outputs.fileKey(view, bucket, version, randomUUID());
    try {
      const rows = mergedRowsSql(view, await this.outputs.mergeInput([{ bucket, state }]));
      const order = `${keyList(view.joinKeys)}, event_timestamp`;
      const written = await this.db.withConnection(async (c) => {
        const result = await c.run(`COPY (SELECT m.*, ${version}::BIGINT AS ${VERSION}, ${bucket}::INTEGER AS ${BUCKET} FROM (${rows}) m ORDER BY ${order}) TO ${quoteLiteral(path)} (FORMAT parquet, COMPRESSION zstd)`);
        const unique = (await c.runAndReadAll(`SELECT count(*) = count(DISTINCT (${keyList(view.joinKeys)}, event_timestamp)) FROM read_parquet(${quoteLiteral(path)})`)).getRows()[0][0] as boolean;
        return { rows: result.rowsChanged, unique };
      });
      await this.store.putFile(key, path);
      const file: ViewFile = { key, version, rows: written.rows, minTs: minOf(state.files), maxTs: maxOf(state.files), unique: written.unique };
      await this.outputs.commit(view, manifest.hashProbe, (latest) => applyBucketChange(latest, bucket, { readRevision: state.revision, add: [file], replaceAll: true, windows: [], markPending: false }));
      return true;
    } finally {
      await this.temp.remove(path);
    }
  }

  async markAllPending(view: ResolvedView): Promise<void> {
    const manifest = await this.outputs.latest(view);
    if (manifest) await this.outputs.commit(view, manifest.hashProbe, markAllPending);
  }

  async recordOnlineEpoch(view: ResolvedView, epoch: number): Promise<void> {
    const probe = await this.hashProbe();
    await this.outputs.commit(view, probe, (latest) => ({ ...latest, onlineEpoch: epoch, committedAt: new Date().toISOString() }));
  }

  private hashProbe(): Promise<string> {
    this.probe ??= this.db.withConnection(async (c) => String((await c.runAndReadAll(HASH_PROBE_SQL)).getRows()[0][0]));
    this.probe.catch(() => (this.probe = undefined));
    return this.probe;
  }

  private async upload(uploaded: string[], key: string, path: string): Promise<void> {
    uploaded.push(key);
    await this.store.putFile(key, path);
  }

  /** The entities pending online in a bucket: keys of its pending files and sidecars, and of the rows pending windows hide. */
  private async pendingEntitiesSql(view: ResolvedView, bucket: number, state: BucketState): Promise<string | null> {
    const keys = keyList(view.joinKeys);
    const files = pendingFiles(state);
    const parts: string[] = [];
    if (files.length > 0) parts.push(`SELECT ${keys} FROM read_parquet(${quotePathList(await this.outputs.localPaths(files))})`);
    const sidecars = await this.outputs.localPaths(files, true);
    if (sidecars.length > 0) parts.push(`SELECT ${keys} FROM read_parquet(${quotePathList(sidecars)})`);
    const windows = pendingWindows(state);
    const hiding = state.files.filter((f) => windows.some((w) => overlaps(f, w)));
    if (hiding.length > 0) parts.push(hiddenByWindowsSql(view, await this.outputs.localPaths(hiding), bucket, windows));
    return parts.length > 0 ? parts.join(' UNION ') : null;
  }

  /** Streams the newest rows as online records, `batchSize` at a time; the final batch's ack clears the bucket's pending. */
  private async *latestBatches(view: ResolvedView, sql: string, batchSize: number, ack: () => Promise<void>): AsyncIterable<PendingBatch> {
    const c = await this.db.connect();
    try {
      const result = await c.stream(sql);
      const noAck = async () => undefined;
      let batch: OnlineRecord[] = [];
      for (;;) {
        const chunk = await result.fetchChunk();
        if (!chunk || chunk.rowCount === 0) break;
        const columns = chunk.getColumns();
        for (let row = 0; row < chunk.rowCount; row++) {
          batch.push(toRecord(view, columns, row));
          if (batch.length >= batchSize) {
            yield { records: batch, ack: noAck };
            batch = [];
          }
        }
      }
      yield { records: batch, ack };
    } finally {
      c.closeSync();
    }
  }
}

function toRecord(view: ResolvedView, columns: DuckDBValue[][], row: number): OnlineRecord {
  const keyCount = view.joinKeys.length;
  const keyValues = view.joinKeys.map((k, i) => fromDuckDb(columns[i][row], k.type));
  return {
    entityKey: encodeEntityKey(keyValues) as string,
    eventTimestamp: micros(columns[keyCount][row]) as Micros,
    createdTimestamp: micros(columns[keyCount + 1][row]),
    values: view.def.features.map((f, i) => fromDuckDb(columns[keyCount + 2 + i][row], f.type)),
  };
}

/** Whether a file may hold rows that the window hides (an earlier version, with rows in its time range). */
function overlaps(file: ViewFile, window: WindowReplace): boolean {
  if (file.version >= window.version || file.minTs === null || file.maxTs === null) return file.version < window.version && file.rows > 0;
  const [lo, hi] = [parseTimestamp(file.minTs)!, parseTimestamp(file.maxTs)!];
  const from = window.from === null ? null : parseTimestamp(window.from)!;
  return lo <= parseTimestamp(window.to)! && (from === null || hi > from || (window.fromInclusive && hi === from));
}

function minOf(files: ViewFile[]): string | null {
  const values = files.map((f) => f.minTs).filter((t): t is string => t !== null);
  return values.length ? values.reduce((a, b) => (parseTimestamp(b)! < parseTimestamp(a)! ? b : a)) : null;
}

function maxOf(files: ViewFile[]): string | null {
  const values = files.map((f) => f.maxTs).filter((t): t is string => t !== null);
  return values.length ? values.reduce((a, b) => (parseTimestamp(b)! > parseTimestamp(a)! ? b : a)) : null;
}
