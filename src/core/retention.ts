/**
 * How long a dataset keeps its snapshots (`retention:` of a dataset, or of a feature service's
 * log). The semantics are Iceberg's snapshot expiry (`min-snapshots-to-keep` with
 * `max-snapshot-age`): a snapshot expires only when it is outside the newest `keepSnapshots`
 * AND older than `keepForSeconds`. Either may be left out: then the other alone decides.
 */
export interface Retention {
  keepSnapshots?: number;
  keepForSeconds?: number;
}

export interface SnapshotAge {
  snapshotId: number;
  committedAt: string;
}

/**
 * The snapshots retention lets go, oldest first. Never the latest (the dataset's state), never
 * a pinned one (a saved training set is rebuilt from it), never one committed at or after
 * `now - keepFor`.
 */
export function expiredSnapshots(snapshots: readonly SnapshotAge[], retention: Retention, pinned: ReadonlySet<number>, nowMs: number): number[] {
  const ordered = [...snapshots].sort((a, b) => a.snapshotId - b.snapshotId);
  const keepNewest = Math.max(1, retention.keepSnapshots ?? 1);
  const cutoffMs = retention.keepForSeconds === undefined ? Infinity : nowMs - retention.keepForSeconds * 1000;
  return ordered
    .slice(0, Math.max(0, ordered.length - keepNewest))
    .filter((s) => !pinned.has(s.snapshotId) && Date.parse(s.committedAt) < cutoffMs)
    .map((s) => s.snapshotId);
}
