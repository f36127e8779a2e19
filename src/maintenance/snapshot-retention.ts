import { Injectable } from '@nestjs/common';
import { expiredSnapshots, Retention } from '../core/retention';
import { datasetSnapshotLog, ExpiredSnapshot, expiredSnapshotKey } from '../lake/dataset-manifest';
import { DocumentStore } from '../storage/document-store';
import { ObjectStore } from '../storage/object-store';

/**
 * Expires a dataset's snapshots under its retention: each one let go is moved out of the
 * snapshot log to `expired/` (copy first, then delete: a kill in between leaves it in both
 * places, and the next run moves it again). Its files stay until GC finds the move older than
 * the grace period and no live snapshot referencing them.
 */
@Injectable()
export class SnapshotRetention {
  constructor(
    private readonly store: ObjectStore,
    private readonly documents: DocumentStore,
  ) {}

  /** The ids expired (in a dry run: that would be), oldest first. */
  async expire(name: string, retention: Retention, pinned: ReadonlySet<number>, options: { dryRun?: boolean; nowMs?: number } = {}): Promise<number[]> {
    const log = datasetSnapshotLog(this.store, name);
    const entries = (await Promise.all((await log.ids()).map((id) => log.get(id)))).flatMap((e) => (e ? [e] : []));
    const nowMs = options.nowMs ?? Date.now();
    const expired = expiredSnapshots(entries.map((e) => ({ snapshotId: e.id, committedAt: e.manifest.committedAt })), retention, pinned, nowMs);
    if (options.dryRun) return expired;
    for (const id of expired) {
      const snapshot = entries.find((e) => e.id === id)!.manifest;
      const tombstone: ExpiredSnapshot = { expiredAt: new Date(nowMs).toISOString(), snapshot };
      await this.documents.put(expiredSnapshotKey(name, id), tombstone);
      await this.store.delete([log.keyOf(id)]);
    }
    return expired;
  }
}
