import { entryName, ManifestLog } from '../storage/manifest-log';
import { ObjectStore } from '../storage/object-store';
import type { ViolationMode } from '../core/expectations';
import type { ColumnProfile } from './expectation-checks';

/** A column of a dataset as DuckDB types it (`TIMESTAMP`, `BIGINT`, `VARCHAR`, …). */
export interface ColumnSchema {
  name: string;
  type: string;
}

/** One immutable Parquet object of a dataset. */
export interface DataFile {
  key: string;
  rows: number;
  bytes: number;
  /** Event-time range of the file's rows (RFC 3339), when the dataset has a timestamp field. */
  minTimestamp: string | null;
  maxTimestamp: string | null;
  /** The snapshot that added this file; incremental readers use it to find new data. */
  addedInSnapshot: number;
  /**
   * A compacted file: the earliest snapshot that added any of its rows (addedInSnapshot is the
   * latest). A reader that consumed a snapshot in between finds rows it had and rows it had not
   * in one file, and recomputes from all of them.
   */
  firstAddedInSnapshot?: number;
  /** Name of the file the user ingested. */
  sourceName: string;
  /** sha256 of the bytes as they were given: the same bytes again are found, and not added twice. */
  sourceSha256?: string;
  /** A compacted file: the sha256 of each file it holds the rows of (so that they are still found). */
  mergedSha256?: string[];
}

/**
 * The state of a dataset after one commit: every data file that makes it up, its schema and
 * totals. A snapshot lists all live files (not only the new ones), so any snapshot can be read
 * on its own: that is what lets a training set be rebuilt exactly later.
 */
export interface DatasetSnapshot {
  format: 1;
  dataset: string;
  snapshotId: number;
  parentSnapshotId: number | null;
  committedAt: string;
  /** `append`: files added; `rollback`: the files of an earlier snapshot (`rolledBackTo`) again; `compact`: small files rewritten as few, same rows. */
  operation: 'append' | 'rollback' | 'compact';
  rolledBackTo?: number;
  /**
   * The latest snapshot (up to this one) that took files away rather than adding them (a
   * rollback): a view that consumed an earlier snapshot recomputes everything, since what it
   * consumed is no longer all there. (A compaction takes no rows away: its merged files say
   * which snapshots added their rows instead.)
   */
  lastRewrite?: number;
  schema: ColumnSchema[];
  files: DataFile[];
  rowCount: number;
  timeRange: { min: string; max: string } | null;
  added: { files: number; rows: number };
  /** Per column of the rows this snapshot added: values, nulls, min, max and a distinct estimate. */
  profile?: ColumnProfile[];
  /** What the dataset's expectations found in the files this snapshot added (absent: none declared). */
  checks?: SnapshotChecks;
}

/** An input an ingest left out because its bytes are in the dataset already (snapshotId: null when given twice in one ingest). */
export interface DuplicateInput {
  file: string;
  snapshotId: number | null;
}

/** What an ingest answers: the snapshot it committed (or, when every input was a duplicate, the latest one), and what it left out. */
export type IngestedSnapshot = DatasetSnapshot & { skipped?: DuplicateInput[] };

export interface SnapshotChecks {
  mode: ViolationMode;
  /** Rules broken (and let in, or quarantined), per file. */
  violations: { rule: string; file: string; violations: number }[];
  /** Rows a quarantine set apart, beside the dataset, with the rules they broke. */
  quarantined: { key: string; rows: number; file: string }[];
}

/** The digests of the bytes a data file holds: its own, or (compacted) those of the files it merged. */
export function digestsOf(file: DataFile): string[] {
  return [...(file.sourceSha256 ? [file.sourceSha256] : []), ...(file.mergedSha256 ?? [])];
}

/**
 * Snapshot `id`, committed on `parent`, holding `base`'s schema and totals with `files` — a
 * snapshot that adds nothing but rewrites which files hold the rows (rollback, compaction). A
 * rollback sets `lastRewrite` (it takes rows away); a compaction keeps the parent's. Neither
 * carries `base`'s ingest findings (profile, checks).
 */
export function rewrittenSnapshot(base: DatasetSnapshot, parent: DatasetSnapshot, id: number, change: { operation: 'rollback' | 'compact'; files: DataFile[]; rolledBackTo?: number }): DatasetSnapshot {
  const { profile: _profile, checks: _checks, rolledBackTo: _to, lastRewrite: _rewrite, ...kept } = base;
  const lastRewrite = change.operation === 'rollback' ? id : parent.lastRewrite;
  return { ...kept, ...change, snapshotId: id, parentSnapshotId: parent.snapshotId, committedAt: new Date().toISOString(), ...(lastRewrite ? { lastRewrite } : {}), added: { files: 0, rows: 0 } };
}

/**
 * A snapshot retention let go: moved out of the log (readers of the dataset no longer see it)
 * to `datasets/<name>/expired/`, where it keeps its files referenced for GC's grace period —
 * a reader that started on it finishes — and a training set saved from it meanwhile still
 * finds it (GC then puts it back instead of deleting it).
 */
export interface ExpiredSnapshot {
  expiredAt: string;
  snapshot: DatasetSnapshot;
}

export function expiredSnapshotPrefix(name: string): string {
  return `datasets/${name}/expired/`;
}

export function expiredSnapshotKey(name: string, id: number): string {
  return `${expiredSnapshotPrefix(name)}${entryName(id)}`;
}

/** Where a dataset's snapshots are committed in the lake (one log per dataset). */
export function datasetSnapshotLog(store: ObjectStore, name: string): ManifestLog<DatasetSnapshot> {
  return new ManifestLog<DatasetSnapshot>(store, `datasets/${name}/snapshots/`);
}

export type FileFormat = 'parquet' | 'csv' | 'jsonl';

/** A file to ingest, already on local disk. */
export interface IngestInput {
  path: string;
  format: FileFormat;
  /** What the user called it (file name or `upload`), for messages. */
  name: string;
}

export function formatFromFileName(name: string): FileFormat | null {
  const lower = name.toLowerCase();
  if (lower.endsWith('.parquet') || lower.endsWith('.pq')) return 'parquet';
  if (lower.endsWith('.csv')) return 'csv';
  if (lower.endsWith('.jsonl') || lower.endsWith('.ndjson') || lower.endsWith('.json')) return 'jsonl';
  return null;
}

/** Content types accepted by `POST /datasets/{name}/files`, by format. */
export const CONTENT_TYPES: Record<string, FileFormat> = {
  'application/vnd.apache.parquet': 'parquet',
  'application/x-parquet': 'parquet',
  'application/parquet': 'parquet',
  'application/octet-stream': 'parquet',
  'text/csv': 'csv',
  'application/csv': 'csv',
  'application/x-ndjson': 'jsonl',
  'application/jsonl': 'jsonl',
  'application/json-lines': 'jsonl',
  'application/jsonlines': 'jsonl',
};
