import { ResolvedView } from '../core/catalog';
import { OnlineRecord } from '../core/online-record';

export interface OnlineReadRequest {
  view: ResolvedView;
  /** Canonical entity keys (core/entity-key); null for a row whose key has a null part. */
  entityKeys: (string | null)[];
}

/**
 * The latest value of each feature view per entity, for low-latency serving.
 * Contract, for every adapter (test/online-store.contract.ts runs it against each):
 *  - `write` keeps, per entity, whichever of the stored and the new record is newer by
 *    (event time, created time); a tie goes to the new record. A write never replaces a newer
 *    value with an older one, whatever the order writes arrive in.
 *  - `read` answers all requests together, in one round trip to the store, with one entry per
 *    requested key in the same order: the record, or null when absent (or the key is null).
 *  - rows written for an older shape of a view (another fingerprint) are never returned.
 */
export abstract class OnlineStore {
  abstract write(project: string, view: ResolvedView, records: OnlineRecord[]): Promise<void>;

  abstract read(project: string, requests: OnlineReadRequest[]): Promise<(OnlineRecord | null)[][]>;

  /**
   * The marker of a view's data in this store: the epoch written with it (writeEpoch), or null
   * when the store has none. Markers never expire; a store that lost data (a Redis restarted
   * without persistence, an embedded file deleted) has lost its markers with it, so an answer
   * below what the offline store recorded means the view must be rewritten.
   */
  abstract readEpoch(project: string, view: ResolvedView): Promise<number | null>;

  abstract writeEpoch(project: string, view: ResolvedView, epoch: number): Promise<void>;

  /**
   * Removes every record and epoch marker of the project (every view, every shape), and
   * nothing of another project; answers how many keys it removed. For `teardown`: the views
   * then read NOT_FOUND until materialized again.
   */
  abstract deleteProject(project: string): Promise<number>;

  /** Whether the store answers, for /health. */
  abstract ping(): Promise<void>;

  /** Releases connections and files; the store is not used afterwards. */
  abstract close(): Promise<void>;
}

/** Storage key of a view shape's epoch marker; `~` cannot start a project name, so it never meets a record key. */
export function epochKey(project: string, view: ResolvedView): string {
  return `~epoch:${project}:${view.def.name}:${view.fingerprint}`;
}

/** Every key of a project starts with one of these (record keys, then epoch markers). */
export function projectKeyPrefixes(project: string): [string, string] {
  return [`${project}:`, `~epoch:${project}:`];
}

/** Storage key of one entity's record of one view shape: `<project>:<view>:<fingerprint>:<entity key>`. */
export function recordKey(project: string, view: ResolvedView, entityKey: string): string {
  return `${project}:${view.def.name}:${view.fingerprint}:${entityKey}`;
}
