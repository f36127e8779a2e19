import { ResolvedView } from '../core/catalog';
import { formatTimestamp, Micros, parseTimestamp, secondsToMicros } from '../core/timestamp';
import { RowScope, SourceFile } from './bucket-work';
import { BucketRequest, SourceSnapshot } from './offline-store';
import { BucketState, WindowReplace } from './view-manifest';

/** What one bucket task will do, decided from the bucket's state and the source snapshot alone. */
export type BucketPlan =
  | { upToDate: true; newRows: number }
  | {
      upToDate: false;
      scope: RowScope;
      /** Source files the SQL reads (none: nothing to compute, only the bookkeeping moves on). */
      files: string[];
      /** The dataset's rows before this event time are left out of the SQL's input (a lookback). */
      inputFrom: Micros | null;
      /** The new file is the bucket's only one (first run, full recompute). */
      replaceAll: boolean;
      /** Window replacements the new file declares (their version is filled in when it is known). */
      windows: Omit<WindowReplace, 'version'>[];
      consumedSnapshot?: number;
      watermark?: string;
      newRows: number;
    };

/**
 * Plans a bucket task. Windows: the rows in [start, end] are recomputed and replace the stored
 * ones. Incremental: a first run (or `incremental: full`) recomputes everything up to end; later
 * runs recompute the entities the not-yet-consumed files touch — all their history, or, when the
 * view declares a `lookback`, from the new data's first event time on, reading the dataset only
 * from that time minus the lookback — plus every row newer than the watermark.
 */
export function planBucket(view: ResolvedView, state: BucketState, source: SourceSnapshot, request: BucketRequest): BucketPlan {
  const all = source.files.map((f) => f.path);
  if (request.kind === 'window') {
    const windows = [{ from: formatTimestamp(request.start), fromInclusive: true, to: formatTimestamp(request.end) }];
    return { upToDate: false, scope: { kind: 'window', start: request.start, end: request.end }, files: all, inputFrom: null, replaceAll: false, windows, newRows: rowsOf(source.files) };
  }
  const consumed = state.consumedSnapshot ?? 0;
  const fresh = source.files.filter((f) => f.addedInSnapshot > consumed);
  const newRows = rowsOf(fresh);
  const watermark = state.watermark === null ? null : (parseTimestamp(state.watermark) as Micros);
  if (state.consumedSnapshot === source.snapshotId && watermark !== null && watermark >= request.end) return { upToDate: true, newRows };
  const end = watermark !== null && watermark > request.end ? watermark : request.end;
  const bookkeeping = { consumedSnapshot: source.snapshotId, watermark: formatTimestamp(end) };
  // Files were taken away since this bucket last ran (a rollback): what it consumed is not all there.
  // Or a new file holds rows it consumed (a compaction merged old and new files): they would count twice.
  const mixed = fresh.some((f) => (f.firstAddedInSnapshot ?? f.addedInSnapshot) <= consumed);
  const rewritten = state.consumedSnapshot !== null && ((source.lastRewrite ?? 0) > state.consumedSnapshot || mixed);
  if (state.consumedSnapshot === null || watermark === null || request.mode === 'full' || rewritten) {
    return { upToDate: false, scope: { kind: 'all', end }, files: all, inputFrom: null, replaceAll: true, windows: [], newRows, ...bookkeeping };
  }
  // Stored rows newer than the watermark (a window run's) are recomputed and replaced; with none, a
  // window would hide nothing, and it would keep the online phase from reading the new files alone.
  const storedBeyond = state.files.some((f) => f.rows > 0 && (f.maxTs === null || (parseTimestamp(f.maxTs) as Micros) > watermark));
  const windows = end > watermark && storedBeyond ? [{ from: formatTimestamp(watermark), fromInclusive: false, to: formatTimestamp(end) }] : [];
  const firstNew = min(fresh.map((f) => f.minTs));
  const timed = fresh.every((f) => f.minTs !== null);
  if (!view.def.sql && timed && (firstNew === null || firstNew > watermark)) {
    // Source rows are view rows, and none is older than what is stored: the new ones are appended.
    const olderFiles = source.files.filter((f) => f.addedInSnapshot <= consumed && (f.maxTs === null || f.maxTs > watermark)).map((f) => f.path);
    const newFiles = fresh.map((f) => f.path);
    const scope: RowScope = { kind: 'append', end, watermark, newFiles, olderFiles };
    return { upToDate: false, scope, files: [...newFiles, ...olderFiles], inputFrom: null, replaceAll: false, windows, newRows, ...bookkeeping };
  }
  // Late rows of a view without SQL replace their entities' rows from the first late time on
  // (a window run may have stored them already); they need no history before it (a lookback of 0).
  const lookback = view.def.sql ? view.def.lookbackSeconds : 0;
  const inputFrom = lookback === undefined || lookback === null || !timed ? null : min([firstNew ?? watermark, watermark])! - secondsToMicros(lookback);
  const files = inputFrom === null ? all : narrowed(source.files, inputFrom);
  const from = inputFrom === null ? null : firstNew;
  const scope: RowScope = { kind: 'entities', end, watermark, newFiles: fresh.map((f) => f.path), from };
  return { upToDate: false, scope, files, inputFrom, replaceAll: false, windows, newRows, ...bookkeeping };
}

/** Files that may hold rows from `from` on (a file without a time range is kept). All files when none qualifies. */
function narrowed(files: SourceFile[], from: Micros): string[] {
  const kept = files.filter((f) => f.maxTs === null || f.maxTs >= from).map((f) => f.path);
  return kept.length > 0 ? kept : files.map((f) => f.path);
}

function rowsOf(files: SourceFile[]): number {
  return files.reduce((n, f) => n + f.rows, 0);
}

function min(values: (Micros | null)[]): Micros | null {
  const present = values.filter((v): v is Micros => v !== null);
  return present.length === 0 ? null : present.reduce((a, b) => (b < a ? b : a));
}
