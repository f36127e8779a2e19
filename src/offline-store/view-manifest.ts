import { parseTimestamp } from '../core/timestamp';
import { CommitConflictError } from '../common/errors';

/**
 * A feature view's offline rows in the lake: immutable Parquet files per hash bucket of the
 * entity key, listed by a manifest that is committed with the ManifestLog (one log per view
 * shape). A bucket is changed only by appending: a new file's rows win over earlier files'
 * where it says so — per entity from a time on (a sidecar of keys), or for every entity of the
 * bucket over a time window — and readers apply that when they read (view-sql.ts). A bucket
 * whose files pile up is compacted into one. Pure data and transitions; no I/O here.
 */
export interface ViewFile {
  key: string;
  /** Orders a bucket's files: a later version's rows win. Also stored in the file (`__version`). */
  version: number;
  rows: number;
  minTs: string | null;
  maxTs: string | null;
  /** (keys…, __from, __version): for these entities, earlier files' rows at or after __from are replaced (null __from: all of them). */
  replacesKey?: string;
  /** Whether (keys, event time) is unique within the file. */
  unique: boolean;
}

/** Earlier files' rows of this bucket with event time in the window are replaced by the file of `version`. */
export interface WindowReplace {
  version: number;
  /** ISO time; null: from the beginning. */
  from: string | null;
  fromInclusive: boolean;
  to: string;
}

export interface BucketState {
  files: ViewFile[];
  windows: WindowReplace[];
  /** The source dataset snapshot whose files are all reflected in the bucket (null: none yet). */
  consumedSnapshot: number | null;
  /** The event time the bucket is complete up to, as of that snapshot. */
  watermark: string | null;
  /** Entities with rows in files of this version on (and their replacements) are not written online yet. */
  pendingFrom: number | null;
  /** Every entity of the bucket must be written online again (the online store lost the view). */
  pendingAll: boolean;
  /** Counts commits to the bucket: a task commits only on top of the revision it read. */
  revision: number;
  /** The job whose task last computed the bucket, and the rows it wrote (a try that runs again finds them committed). */
  committedBy?: { job: string; rows: number };
}

export interface ViewManifest {
  format: 1;
  view: string;
  fingerprint: string;
  buckets: number;
  /** DuckDB's hash of a fixed probe when the buckets were first written: the same function must place keys now. */
  hashProbe: string;
  bucketStates: BucketState[];
  /** The online store's epoch for this view after the last run that wrote it (null: never). */
  onlineEpoch: number | null;
  committedAt: string;
}

export function emptyBucket(): BucketState {
  return { files: [], windows: [], consumedSnapshot: null, watermark: null, pendingFrom: null, pendingAll: false, revision: 0 };
}

export function emptyManifest(view: string, fingerprint: string, buckets: number, hashProbe: string): ViewManifest {
  return { format: 1, view, fingerprint, buckets, hashProbe, bucketStates: Array.from({ length: buckets }, emptyBucket), onlineEpoch: null, committedAt: new Date().toISOString() };
}

/** The next file version for a bucket: after every version it holds, whatever the clock of the writer says. */
export function nextVersion(state: BucketState, nowMicros: number): number {
  const highest = Math.max(0, ...state.files.map((f) => f.version), ...state.windows.map((w) => w.version));
  return Math.max(nowMicros, highest + 1);
}

/** What one bucket task changes: new files, replacements, and the bucket's incremental state. */
export interface BucketChange {
  /** The revision the task read; the commit fails if another writer moved the bucket since. */
  readRevision: number;
  /** Files added (in version order). With `replaceAll`, they are the bucket's only files after this. */
  add: ViewFile[];
  replaceAll?: boolean;
  windows?: WindowReplace[];
  consumedSnapshot?: number | null;
  watermark?: string | null;
  /** Marks the added files' entities pending online (materializations do; compaction does not). */
  markPending: boolean;
  /** A materialization's task: its job and the rows it wrote. */
  committedBy?: { job: string; rows: number };
}

/** Applies a bucket change to the latest manifest: a pure function of both, so a commit can retry it. */
export function applyBucketChange(latest: ViewManifest, bucket: number, change: BucketChange): ViewManifest {
  const state = latest.bucketStates[bucket];
  if (state.revision !== change.readRevision) {
    throw new CommitConflictError(`bucket ${bucket} of feature view ${latest.view} changed while this task ran (revision ${state.revision}, read ${change.readRevision}); run the job again`);
  }
  // A window replacement changes the entities whose earlier rows it hides, even with no new file.
  const versions = [...change.add.map((f) => f.version), ...(change.windows ?? []).map((w) => w.version)];
  const firstNew = versions.length > 0 ? Math.min(...versions) : null;
  const next: BucketState = {
    files: change.replaceAll ? [...change.add] : [...state.files, ...change.add],
    windows: change.replaceAll ? [...(change.windows ?? [])] : [...state.windows, ...(change.windows ?? [])],
    consumedSnapshot: change.consumedSnapshot === undefined ? state.consumedSnapshot : change.consumedSnapshot,
    watermark: change.watermark === undefined ? state.watermark : change.watermark,
    pendingFrom: change.markPending && firstNew !== null ? Math.min(state.pendingFrom ?? firstNew, firstNew) : state.pendingFrom,
    pendingAll: state.pendingAll,
    revision: state.revision + 1,
    ...(change.committedBy ?? state.committedBy ? { committedBy: change.committedBy ?? state.committedBy } : {}),
  };
  return withBucket(latest, bucket, next);
}

/** Clears what was pending online in a bucket, if nothing new was marked since `seen` was read. */
export function clearPending(latest: ViewManifest, bucket: number, seen: Pick<BucketState, 'pendingFrom' | 'pendingAll' | 'revision'>): ViewManifest {
  const state = latest.bucketStates[bucket];
  if (state.revision !== seen.revision) return latest; // moved on: what it marks stays pending for the next run
  return withBucket(latest, bucket, { ...state, pendingFrom: null, pendingAll: false, revision: state.revision + 1 });
}

export function markAllPending(latest: ViewManifest): ViewManifest {
  return { ...latest, bucketStates: latest.bucketStates.map((s) => ({ ...s, pendingAll: true, revision: s.revision + 1 })), committedAt: new Date().toISOString() };
}

function withBucket(latest: ViewManifest, bucket: number, state: BucketState): ViewManifest {
  return { ...latest, bucketStates: latest.bucketStates.map((s, i) => (i === bucket ? state : s)), committedAt: new Date().toISOString() };
}

/** The files (and sidecars) whose entities are pending online in a bucket. */
export function pendingFiles(state: BucketState): ViewFile[] {
  if (state.pendingFrom === null) return [];
  return state.files.filter((f) => f.version >= state.pendingFrom!);
}

/** The window replacements whose hidden rows' entities are pending online in a bucket. */
export function pendingWindows(state: BucketState): WindowReplace[] {
  if (state.pendingFrom === null) return [];
  return state.windows.filter((w) => w.version >= state.pendingFrom!);
}

/** Whether reads of these buckets need the merge (replacements or windows), and whether rows may repeat (keys, time). */
export function readShape(states: BucketState[]): { merge: boolean; unique: boolean } {
  const merge = states.some((s) => s.windows.length > 0 || s.files.some((f) => f.replacesKey));
  const unique = states.every((s) => s.files.length <= 1 && s.files.every((f) => f.unique));
  return { merge, unique };
}

/**
 * Whether the bucket's pending files only append rows newer than every row of its other files
 * (no replacements, no windows): the newest row of each pending entity is then among the pending
 * files, so the online phase reads those alone — its cost follows the new data, not the bucket.
 */
export function pendingAppendsOnly(state: BucketState): boolean {
  if (state.pendingAll || state.pendingFrom === null || pendingWindows(state).length > 0) return false;
  const pending = pendingFiles(state);
  if (pending.length === 0 || pending.some((f) => f.replacesKey !== undefined || f.minTs === null)) return false;
  const older = state.files.filter((f) => f.version < state.pendingFrom!);
  if (older.some((f) => f.maxTs === null && f.rows > 0)) return false;
  const firstNew = pending.reduce((min, f) => (micros(f.minTs!) < min ? micros(f.minTs!) : min), micros(pending[0].minTs!));
  return older.every((f) => f.maxTs === null || micros(f.maxTs) < firstNew);
}

/**
 * The bucket without the files whose every row a later window hides — what a window
 * materialization (`materialize START END`) supersedes: its reads would merge and hide them
 * until compaction — and without the windows that then have nothing left to hide. Null when
 * nothing is shadowed. A file with a sidecar goes only once every earlier file has gone (its
 * sidecar hides their rows). Only with nothing pending online: the online phase reads the
 * hidden rows to find the entities they changed.
 */
export function withoutShadowed(state: BucketState): Pick<BucketState, 'files' | 'windows'> | null {
  if (state.pendingAll || state.pendingFrom !== null || state.windows.length === 0) return null;
  const ordered = [...state.files].sort((a, b) => a.version - b.version);
  const kept: ViewFile[] = [];
  for (const file of ordered) {
    const hidden = state.windows.some((w) => w.version > file.version && hides(w, file));
    if (!hidden || (file.replacesKey && kept.length > 0)) kept.push(file);
  }
  if (kept.length === state.files.length) return null;
  const windows = state.windows.filter((w) => kept.some((f) => f.version < w.version));
  return { files: kept, windows };
}

/** Whether every row of the file lies in the window's time range (a file of no rows: trivially). */
function hides(window: WindowReplace, file: ViewFile): boolean {
  if (file.rows === 0) return true;
  if (file.minTs === null || file.maxTs === null) return false;
  const [lo, hi] = [micros(file.minTs), micros(file.maxTs)];
  if (hi > micros(window.to)) return false;
  if (window.from === null) return true;
  return window.fromInclusive ? lo >= micros(window.from) : lo > micros(window.from);
}

function micros(iso: string): bigint {
  return parseTimestamp(iso) as bigint;
}
