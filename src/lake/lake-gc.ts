import { Injectable } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { ObjectStore } from '../storage/object-store';
import { SCRATCH_PREFIX } from '../storage/scratch-objects';
import { datasetSnapshotLog } from './dataset-manifest';

export interface GcResult {
  /** Keys deleted (or, in a dry run, that would be). */
  deleted: string[];
  /** Objects no snapshot references that are younger than the grace period (an ingest may be about to commit them). */
  young: number;
}

/**
 * `featurelake gc`: deletes the lake objects nothing can read any more — data and quarantine
 * files of a dataset that no snapshot of it references (what a killed ingest uploaded and never
 * committed), and files in transit under `scratch/` — once they are older than the grace
 * period, which is longer than an ingest may take (so a file staged by a running ingest is
 * never taken). Every snapshot is kept (there is no retention yet), so every file a snapshot
 * references — and so every file a saved training set pins — stays.
 */
@Injectable()
export class LakeGc {
  constructor(
    private readonly config: AppConfig,
    private readonly store: ObjectStore,
  ) {}

  /** The default grace: an hour more than an ingest may run. */
  get defaultGraceSeconds(): number {
    return this.config.limits.ingestTimeoutSeconds + 3600;
  }

  async collect(options: { graceSeconds?: number; dryRun?: boolean } = {}): Promise<GcResult> {
    const cutoff = Date.now() - (options.graceSeconds ?? this.defaultGraceSeconds) * 1000;
    const deleted: string[] = [];
    let young = 0;
    const consider = (items: { key: string; modifiedMs: number }[], referenced: Set<string>) => {
      for (const item of items) {
        if (referenced.has(item.key)) continue;
        if (item.modifiedMs < cutoff) deleted.push(item.key);
        else young++;
      }
    };
    for (const name of await this.store.listFolders('datasets/')) {
      // Listed after the references: a file committed in between is young, never taken.
      const referenced = await this.referenced(name);
      consider([...(await this.store.listModified(`datasets/${name}/data/`)), ...(await this.store.listModified(`datasets/${name}/quarantine/`))], referenced);
    }
    consider(await this.store.listModified(SCRATCH_PREFIX), new Set());
    if (!options.dryRun) {
      for (let i = 0; i < deleted.length; i += 1000) await this.store.delete(deleted.slice(i, i + 1000));
    }
    return { deleted, young };
  }

  /** Every key any snapshot of the dataset references: its data files and its quarantined rows. */
  private async referenced(name: string): Promise<Set<string>> {
    const log = datasetSnapshotLog(this.store, name);
    const keys = new Set<string>();
    for (const id of await log.ids()) {
      const snapshot = (await log.get(id))?.manifest;
      for (const file of snapshot?.files ?? []) keys.add(file.key);
      for (const q of snapshot?.checks?.quarantined ?? []) keys.add(q.key);
    }
    return keys;
  }
}
