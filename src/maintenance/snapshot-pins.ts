import { Injectable } from '@nestjs/common';
import { TrainingSetsService } from '../retrieval/training-sets.service';

/** Per dataset, the snapshots something still rebuilds from: retention never expires them, GC never deletes their files. */
export type PinnedSnapshots = Map<string, Set<number>>;

/** Who pins snapshots (a port, so that lake maintenance does not reach into how training sets are saved). */
export abstract class SnapshotPins {
  abstract pinned(): Promise<PinnedSnapshots>;
}

/** Saved training sets pin the snapshot of each view's dataset they were computed from, until `training-sets delete`. */
@Injectable()
export class TrainingSetPins extends SnapshotPins {
  constructor(private readonly trainingSets: TrainingSetsService) {
    super();
  }

  async pinned(): Promise<PinnedSnapshots> {
    const pins: PinnedSnapshots = new Map();
    for (const set of await this.trainingSets.list()) {
      for (const source of set.sources) {
        const ids = pins.get(source.dataset) ?? new Set<number>();
        pins.set(source.dataset, ids.add(source.snapshotId));
      }
    }
    return pins;
  }
}
