import { DatasetDetails, DatasetSummary } from './dataset.service';
import { DatasetSnapshot } from './dataset-manifest';

export function toSnapshotBody(s: DatasetSnapshot) {
  return {
    dataset: s.dataset,
    snapshot_id: s.snapshotId,
    parent_snapshot_id: s.parentSnapshotId,
    committed_at: s.committedAt,
    operation: s.operation,
    ...(s.rolledBackTo ? { rolled_back_to: s.rolledBackTo } : {}),
    row_count: s.rowCount,
    time_range: s.timeRange,
    schema: s.schema,
    added: s.added,
    profile: s.profile,
    checks: s.checks,
    files: s.files.map((f) => ({
      key: f.key,
      rows: f.rows,
      bytes: f.bytes,
      min_timestamp: f.minTimestamp,
      max_timestamp: f.maxTimestamp,
      added_in_snapshot: f.addedInSnapshot,
      ...(f.firstAddedInSnapshot === undefined ? {} : { first_added_in_snapshot: f.firstAddedInSnapshot }),
      source_name: f.sourceName,
    })),
  };
}

export function toDatasetSummaryBody(d: DatasetSummary) {
  return {
    name: d.name,
    declared: d.declared,
    snapshot_id: d.latest?.snapshotId ?? null,
    row_count: d.latest?.rowCount ?? 0,
    file_count: d.latest?.files.length ?? 0,
    time_range: d.latest?.timeRange ?? null,
    committed_at: d.latest?.committedAt ?? null,
  };
}

export function toDatasetDetailsBody(d: DatasetDetails) {
  return {
    ...toDatasetSummaryBody(d),
    schema: d.latest?.schema ?? null,
    latest: d.latest ? toSnapshotBody(d.latest) : null,
    snapshots: d.snapshots.map((s) => ({ snapshot_id: s.snapshotId, committed_at: s.committedAt, row_count: s.rowCount, added: s.added })),
  };
}
