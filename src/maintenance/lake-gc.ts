import { Injectable } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { datasetSnapshotLog, DatasetSnapshot, ExpiredSnapshot, expiredSnapshotPrefix } from '../lake/dataset-manifest';
import { IDEMPOTENCY_TTL_MS } from '../lake/idempotency.store';
import { viewGarbage } from '../offline-store/view-garbage';
import { DocumentStore } from '../storage/document-store';
import { ObjectStore } from '../storage/object-store';
import { SCRATCH_PREFIX } from '../storage/scratch-objects';
import { PinnedSnapshots } from './snapshot-pins';

/** S3's DeleteObjects takes at most 1,000 keys. */
const DELETE_BATCH = 1000;
const IDEMPOTENCY_PREFIX = 'idempotency/';
/** Where scheduled rounds are claimed: one record per period, created once (the lake's create-only write picks one worker of all). */
export const ROUNDS_PREFIX = 'maintenance/rounds/';
/** Round records are kept this long (what ran when), then GC takes them. */
const ROUND_RECORD_MS = 7 * 86_400_000;

export interface GcOptions {
  graceSeconds?: number;
  dryRun?: boolean;
  /** What saved training sets pin: an expired snapshot they pin is put back, not deleted. */
  pins?: PinnedSnapshots;
}

export interface GcResult {
  /** Keys deleted (or, in a dry run, that would be), in the order they went. */
  deleted: string[];
  /** Objects nothing references that are younger than the grace period (an ingest or a task may be about to commit them). */
  young: number;
  /** Expired snapshots a training set pins, put back into their dataset's log (`dataset@id`). */
  restored: string[];
}

interface Tombstone {
  key: string;
  id: number;
  expiredAtMs: number;
  snapshot: DatasetSnapshot;
}

/**
 * `featurelake gc`: deletes the lake objects nothing can read any more, once older than the
 * grace period (longer than an ingest or a task may take, so what a running one staged is
 * never taken):
 * - a dataset's data and quarantine files that no live snapshot references — what a killed
 *   ingest uploaded, and the files of snapshots retention expired more than the grace period
 *   ago (the expired snapshot's record goes with them);
 * - feature views' offline files no kept manifest references, and manifests no reader can hold;
 * - files in transit under `scratch/`, idempotency records past their 24 h, and records of
 *   scheduled rounds older than a week.
 * A file any live snapshot references stays, and so does every file a saved training set pins.
 */
@Injectable()
export class LakeGc {
  constructor(
    private readonly config: AppConfig,
    private readonly store: ObjectStore,
    private readonly documents: DocumentStore,
  ) {}

  /** The default grace: `maintenance.grace`, else an hour more than an ingest may run. */
  get defaultGraceSeconds(): number {
    return this.config.maintenance?.graceSeconds ?? this.config.limits.ingestTimeoutSeconds + 3600;
  }

  async collect(options: GcOptions = {}): Promise<GcResult> {
    const cutoff = Date.now() - (options.graceSeconds ?? this.defaultGraceSeconds) * 1000;
    const result: GcResult = { deleted: [], young: 0, restored: [] };
    for (const name of await this.store.listFolders('datasets/')) {
      await this.collectDataset(name, cutoff, options, result);
    }
    const views = await viewGarbage(this.store, cutoff);
    await this.remove(views.deletable, options, result);
    result.young += views.young;
    const scratch = await this.store.listModified(SCRATCH_PREFIX);
    await this.remove(scratch.filter((o) => o.modifiedMs <= cutoff).map((o) => o.key), options, result);
    result.young += scratch.filter((o) => o.modifiedMs > cutoff).length;
    const idempotency = await this.store.listModified(IDEMPOTENCY_PREFIX);
    await this.remove(idempotency.filter((o) => o.modifiedMs < Math.min(cutoff, Date.now() - IDEMPOTENCY_TTL_MS)).map((o) => o.key), options, result);
    const rounds = await this.store.listModified(ROUNDS_PREFIX);
    await this.remove(rounds.filter((o) => o.modifiedMs < Date.now() - ROUND_RECORD_MS).map((o) => o.key), options, result);
    return result;
  }

  /**
   * One dataset: expired snapshots a training set pins are put back; the files that neither a
   * live snapshot nor one expired within the grace period references are deleted, then the
   * records of those expired longer ago. Files are listed last, so one committed meanwhile is
   * young (never taken); a kill at any point leaves records that reference at most files
   * already gone, which the next run clears.
   */
  private async collectDataset(name: string, cutoff: number, options: GcOptions, result: GcResult): Promise<void> {
    const pinned = options.pins?.get(name) ?? new Set<number>();
    // Live snapshots before expired ones: a snapshot that retention moves meanwhile is in one list or the other.
    const referenced = await this.referenced(name);
    const tombstones = await this.tombstones(name);
    const ripe = tombstones.filter((t) => t.expiredAtMs <= cutoff && !pinned.has(t.id));
    const restore = tombstones.filter((t) => pinned.has(t.id));
    if (!options.dryRun) await this.restore(name, restore);
    result.restored.push(...restore.map((t) => `${name}@${t.id}`));
    for (const t of tombstones) if (!ripe.includes(t)) for (const key of keysOf(t.snapshot)) referenced.add(key);
    const files = [...(await this.store.listModified(`datasets/${name}/data/`)), ...(await this.store.listModified(`datasets/${name}/quarantine/`))];
    const unreferenced = files.filter((f) => !referenced.has(f.key));
    await this.remove(unreferenced.filter((f) => f.modifiedMs <= cutoff).map((f) => f.key), options, result);
    result.young += unreferenced.filter((f) => f.modifiedMs > cutoff).length;
    await this.remove(ripe.map((t) => t.key), options, result);
  }

  /** Expired snapshots, aged by when their record was written (the object's time, as every other object's). */
  private async tombstones(name: string): Promise<Tombstone[]> {
    const objects = await this.store.listModified(expiredSnapshotPrefix(name));
    const found = await Promise.all(
      objects.map(async ({ key, modifiedMs }) => {
        const record = await this.documents.get<ExpiredSnapshot>(key);
        return record && { key, id: record.snapshot.snapshotId, expiredAtMs: modifiedMs, snapshot: record.snapshot };
      }),
    );
    return found.filter((t): t is Tombstone => t !== null);
  }

  /** Puts pinned snapshots back in the log at their own id (ids only grow, so it is free) and drops their expiry record. */
  private async restore(name: string, tombstones: Tombstone[]): Promise<void> {
    const log = datasetSnapshotLog(this.store, name);
    for (const t of tombstones) {
      await this.store.putIfAbsent(log.keyOf(t.id), JSON.stringify(t.snapshot, null, 1));
      await this.store.delete([t.key]);
    }
  }

  /** Every key a live snapshot of the dataset references: its data files and its quarantined rows. */
  private async referenced(name: string): Promise<Set<string>> {
    const log = datasetSnapshotLog(this.store, name);
    const entries = await Promise.all((await log.ids()).map((id) => log.get(id)));
    return new Set(entries.flatMap((entry) => (entry ? keysOf(entry.manifest) : [])));
  }

  private async remove(keys: string[], options: GcOptions, result: GcResult): Promise<void> {
    if (keys.length === 0) return;
    if (!options.dryRun) {
      for (let i = 0; i < keys.length; i += DELETE_BATCH) await this.store.delete(keys.slice(i, i + DELETE_BATCH));
    }
    result.deleted.push(...keys);
  }
}

function keysOf(snapshot: DatasetSnapshot): string[] {
  return [...snapshot.files.map((f) => f.key), ...(snapshot.checks?.quarantined ?? []).map((q) => q.key)];
}
