import type { ErrorRecord } from '../common/errors';
import { Micros } from '../core/timestamp';
import type { BucketRequest } from '../offline-store/offline-store';

/** `online-restore`: the server found an online store that lost a view's data and rewrites it from the offline table. */
export type JobKind = 'materialize' | 'materialize-incremental' | 'online-restore';
/** `partial`: some views failed (each with its error) and the others were materialized. */
export type JobState = 'queued' | 'running' | 'succeeded' | 'partial' | 'failed' | 'cancelled';

export const ACTIVE_STATES: readonly JobState[] = ['queued', 'running'];

/** What a job was asked to do. Times are UTC microseconds. */
export interface JobRequest {
  kind: JobKind;
  views: string[];
  /** materialize only. */
  start?: Micros;
  end: Micros;
}

/** The outcome for one feature view. */
export interface ViewRun {
  view: string;
  state: 'pending' | 'running' | 'done' | 'skipped' | 'failed' | 'cancelled';
  /** Event-time window recomputed: explicit for materialize, from the last watermark for incremental. */
  start: Micros | null;
  end: Micros;
  /** Lake snapshot of the source dataset that was read (null: it had no data). */
  sourceSnapshot: number | null;
  /** Rows of the source snapshot; and of its files this view had not consumed before. */
  sourceRows: number;
  newRows: number;
  rowsOffline: number;
  rowsOnline: number;
  note?: string;
  /** Why this view failed (the job's other views still ran). */
  error?: ErrorRecord;
  durationMs: number;
  /** What the job's plan task decided for this view, which its bucket tasks follow (absent: skipped, or not planned yet). */
  plan?: StoredPlan;
}

/** A view's plan as the job record keeps it: every task, on any worker, reads the same. */
export interface StoredPlan {
  /** The definition planned: a task finding another one applied stops (FEATURE_VIEW_CHANGED). */
  fingerprint: string;
  buckets: number;
  /** The source snapshot every bucket reads (null: an online-restore reads no lake data). */
  snapshotId: number | null;
  request: BucketRequest;
  expectedEpoch: number | null;
  storedEpoch: number | null;
  /** The bucket ranges, one task each. */
  ranges: number[][];
}

export interface JobProgress {
  view: string | null;
  phase: 'offline' | 'online' | null;
  /** 0…1 over the whole job (views weighted equally), or null while unknown. */
  fraction: number | null;
  /** Rows per second of the current phase, and the estimated seconds left in it. */
  rowsPerSecond: number | null;
  etaSeconds: number | null;
}

export interface Job {
  id: string;
  request: JobRequest;
  state: JobState;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  durationMs: number | null;
  views: ViewRun[];
  progress: JobProgress;
  error: ErrorRecord | null;
  /**
   * The process that ran it, and the queue it went through: a local job found running after
   * its process died was interrupted; a job on Redis is recovered by the queue instead.
   */
  owner: { pid: number; host: string; queue?: 'local' | 'redis' };
}

export function totals(job: Job): { sourceRows: number; newRows: number; rowsOffline: number; rowsOnline: number } {
  return job.views.reduce(
    (t, v) => ({ sourceRows: t.sourceRows + v.sourceRows, newRows: t.newRows + v.newRows, rowsOffline: t.rowsOffline + v.rowsOffline, rowsOnline: t.rowsOnline + v.rowsOnline }),
    { sourceRows: 0, newRows: 0, rowsOffline: 0, rowsOnline: 0 },
  );
}
