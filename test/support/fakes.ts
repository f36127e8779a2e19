import { Readable } from 'node:stream';
import { LogShape } from '../../src/monitoring/logging/feature-log';
import { featureValues, LogChunk, VIEW_STATUSES } from '../../src/monitoring/logging/log-buffer';
import { LogSink } from '../../src/monitoring/logging/log-sink';
import { ObjectStore } from '../../src/storage/object-store';
import { ResolvedView } from '../../src/core/catalog';
import { orderPrefix, OnlineRecord } from '../../src/core/online-record';
import { epochKey, OnlineReadRequest, OnlineStore, projectKeyPrefixes, recordKey } from '../../src/online-store/online-store';

/** ObjectStore in memory; several instances may share one `objects` map to play separate processes. */
export class InMemoryObjectStore extends ObjectStore {
  constructor(
    readonly objects = new Map<string, Buffer>(),
    readonly location = 'memory://lake',
  ) {
    super();
  }
  async put(key: string, body: Buffer | string) {
    this.objects.set(key, Buffer.from(body));
  }
  async putFile(key: string) {
    this.objects.set(key, Buffer.from('file'));
  }
  async putIfAbsent(key: string, body: Buffer | string) {
    await Promise.resolve(); // let concurrent writers interleave, as they would over a network
    if (this.objects.has(key)) return false;
    this.objects.set(key, Buffer.from(body));
    return true;
  }
  async get(key: string) {
    return this.objects.get(key) ?? null;
  }
  async read(key: string) {
    const body = this.objects.get(key);
    if (!body) throw new Error(`no object ${key}`);
    return Readable.from([body]);
  }
  async list(prefix: string) {
    return [...this.objects.keys()].filter((k) => k.startsWith(prefix)).sort();
  }
  async listModified(prefix: string) {
    return (await this.list(prefix)).map((key) => ({ key, modifiedMs: Date.now() }));
  }
  async listFolders(prefix: string) {
    return [...new Set((await this.list(prefix)).map((k) => k.slice(prefix.length).split('/')[0]))];
  }
  async delete(keys: string[]) {
    keys.forEach((k) => this.objects.delete(k));
  }
  async localPath(key: string) {
    return `/memory/${key}`;
  }
  async size(key: string) {
    return this.objects.get(key)?.length ?? null;
  }
  async ping() {}
}

/** OnlineStore in memory that keeps the contract (newer wins) and counts reads. */
export class InMemoryOnlineStore extends OnlineStore {
  readonly records = new Map<string, OnlineRecord>();
  reads = 0;
  writes: OnlineRecord[][] = [];

  async write(project: string, view: ResolvedView, records: OnlineRecord[]) {
    this.writes.push(records);
    for (const record of records) {
      const key = recordKey(project, view, record.entityKey);
      const old = this.records.get(key);
      const version = (r: OnlineRecord) => orderPrefix(r.eventTimestamp, r.createdTimestamp);
      if (!old || version(old) <= version(record)) this.records.set(key, record);
    }
  }
  async read(project: string, requests: OnlineReadRequest[]) {
    this.reads++;
    return requests.map(({ view, entityKeys }) => entityKeys.map((k) => (k === null ? null : this.records.get(recordKey(project, view, k)) ?? null)));
  }
  readonly epochs = new Map<string, number>();
  async readEpoch(project: string, view: ResolvedView) {
    return this.epochs.get(epochKey(project, view)) ?? null;
  }
  async writeEpoch(project: string, view: ResolvedView, epoch: number) {
    this.epochs.set(epochKey(project, view), epoch);
  }
  async deleteProject(project: string) {
    const prefixes = projectKeyPrefixes(project);
    let removed = 0;
    for (const map of [this.records, this.epochs] as Map<string, unknown>[]) {
      for (const key of [...map.keys()]) if (prefixes.some((p) => key.startsWith(p)) && map.delete(key)) removed++;
    }
    return removed;
  }
  async ping() {}
  async close() {}
}

/** One logged row, flattened for assertions. */
export interface FlatLogRow {
  requestId: string;
  keys: unknown[];
  values: unknown[];
  statuses: string[];
}

/** Keeps every appended batch (flattened to rows); `failNext` makes the next append throw (a lake outage). */
export class CollectingLogSink extends LogSink {
  batches: { shape: LogShape; rows: FlatLogRow[] }[] = [];
  failNext = 0;

  async append(shape: LogShape, chunks: LogChunk[]): Promise<void> {
    if (this.failNext > 0) {
      this.failNext--;
      throw new Error('lake unreachable');
    }
    const rows = chunks.flatMap((chunk) => {
      const values = chunk.features.map((_, f) => featureValues(chunk, f));
      return Array.from({ length: chunk.rows }, (_, i) => ({
        requestId: chunk.requestIds[i],
        keys: chunk.keys.map((k) => k[i]),
        values: values.map((v) => v[i]),
        statuses: chunk.statuses.map((s) => VIEW_STATUSES[s[i]]),
      }));
    });
    this.batches.push({ shape, rows });
  }
}
