import { Injectable } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { IdempotencyKeyInUseError, IdempotencyKeyReusedError } from '../common/errors';
import { TempFiles } from '../common/temp-files';
import { AppConfig } from '../config/app-config';
import { DuplicateInput, IngestedSnapshot } from './dataset-manifest';
import { DatasetService, ReceivedBody } from './dataset.service';
import { IdempotencyRecord, IdempotencyStore } from './idempotency.store';

export type IngestAnswer = IngestedSnapshot & { replayed?: boolean };

interface RecordedAnswer {
  snapshotId: number;
  skipped?: DuplicateInput[];
}

/**
 * An HTTP ingest sent with an `Idempotency-Key` is applied at most once: a retry with the same
 * key and body gets the first answer again (replayed) — also when the first attempt's process
 * died between the commit and the answer: its record names the data file that commit adds, so
 * the retry finds the snapshot instead of ingesting again. The same key with another body (or
 * another `allow_duplicate`) is refused. Without a key, the same bytes are still added once
 * (DatasetService), but `allow_duplicate` retries would add them again: the key is what makes
 * those safe.
 */
@Injectable()
export class IngestOnce {
  constructor(
    private readonly config: AppConfig,
    private readonly datasets: DatasetService,
    private readonly idempotency: IdempotencyStore,
    private readonly temp: TempFiles,
  ) {}

  async ingest(name: string, body: Readable, contentType: string | undefined, options: { allowDuplicate: boolean; key?: string }, signal?: AbortSignal): Promise<IngestAnswer> {
    if (options.key === undefined) return this.datasets.ingestStream(name, body, contentType, signal, options.allowDuplicate);
    const received = await this.datasets.receive(name, body, contentType);
    try {
      return await this.once(name, received, options.allowDuplicate, options.key, signal);
    } finally {
      await this.temp.remove(received.path);
    }
  }

  private async once(name: string, received: ReceivedBody, allowDuplicate: boolean, key: string, signal?: AbortSignal): Promise<IngestAnswer> {
    const scope = `ingest/${name}`;
    const requestHash = createHash('sha256').update(`${received.format}:${allowDuplicate}:${await this.temp.sha256(received.path)}`).digest('hex');
    const existing = await this.idempotency.get(scope, key);
    if (existing && existing.requestHash !== requestHash) {
      throw new IdempotencyKeyReusedError('Idempotency-Key: this key was used for a different upload; use a new key for new data', { field: 'Idempotency-Key' });
    }
    if (existing?.state === 'done') return { ...(await this.replay(name, existing.response as RecordedAnswer)), replayed: true };
    if (existing) {
      const committed = await this.committed(name, existing);
      if (committed) return this.finish(scope, key, existing, committed);
      // Within the ingest's own time budget the first attempt may still be running.
      if (Date.now() - Date.parse(existing.createdAt) < (this.config.limits.ingestTimeoutSeconds + 60) * 1000) throw inUse();
    }
    const record: IdempotencyRecord = { state: 'pending', requestHash, createdAt: new Date().toISOString(), stagedKeys: [this.datasets.newFileKey(name)] };
    if (existing) await this.idempotency.put(scope, key, record);
    else if (!(await this.idempotency.begin(scope, key, record))) throw inUse();
    try {
      return await this.finish(scope, key, record, await this.datasets.ingestReceived(name, received, { allowDuplicate, fileKeys: record.stagedKeys }, signal));
    } catch (error) {
      // Nothing committed: forget the key, so that a retry starts afresh.
      if (!(await this.committed(name, record).catch(() => true))) await this.idempotency.remove(scope, key).catch(() => undefined);
      throw error;
    }
  }

  private async committed(name: string, record: IdempotencyRecord): Promise<IngestedSnapshot | null> {
    const id = record.stagedKeys?.[0] ? await this.datasets.snapshotAdding(name, record.stagedKeys[0]) : null;
    return id === null ? null : this.datasets.snapshot(name, id);
  }

  /** The answer is kept as the snapshot's id (a manifest lists every file: it can be large) and what was skipped. */
  private async finish(scope: string, key: string, record: IdempotencyRecord, answer: IngestedSnapshot): Promise<IngestAnswer> {
    const recorded: RecordedAnswer = { snapshotId: answer.snapshotId, ...(answer.skipped ? { skipped: answer.skipped } : {}) };
    await this.idempotency.put(scope, key, { state: 'done', requestHash: record.requestHash, createdAt: record.createdAt, response: recorded });
    return answer;
  }

  private async replay(name: string, recorded: RecordedAnswer): Promise<IngestedSnapshot> {
    const snapshot = await this.datasets.snapshot(name, recorded.snapshotId);
    if (!snapshot) throw new Error(`snapshot ${recorded.snapshotId} of dataset ${name}, which an earlier upload with this key answered, is not in the lake`);
    return recorded.skipped ? { ...snapshot, skipped: recorded.skipped } : snapshot;
  }
}

function inUse(): IdempotencyKeyInUseError {
  return new IdempotencyKeyInUseError('Idempotency-Key: an upload with this key is still being ingested; retry in a moment', { field: 'Idempotency-Key' });
}
