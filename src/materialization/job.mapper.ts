import { formatTimestamp, Micros } from '../core/timestamp';
import { Job, totals } from './job';

const time = (micros: Micros | null) => (micros === null ? null : formatTimestamp(micros));

/** A job as the API shows it (snake_case, RFC 3339 times). */
export function toJobBody(job: Job) {
  const sum = totals(job);
  return {
    job_id: job.id,
    kind: job.request.kind,
    state: job.state,
    feature_views: job.request.views,
    window: { start: time(job.request.start ?? null), end: time(job.request.end) },
    created_at: job.createdAt,
    started_at: job.startedAt,
    finished_at: job.finishedAt,
    duration_ms: job.durationMs,
    rows: { source: sum.sourceRows, new: sum.newRows, offline_written: sum.rowsOffline, online_written: sum.rowsOnline },
    progress: {
      feature_view: job.progress.view,
      phase: job.progress.phase,
      fraction: job.progress.fraction,
      rows_per_second: job.progress.rowsPerSecond === null ? null : Math.round(job.progress.rowsPerSecond),
      eta_seconds: job.progress.etaSeconds === null ? null : Math.round(job.progress.etaSeconds * 10) / 10,
    },
    views: job.views.map((v) => ({
      name: v.view,
      state: v.state,
      start: time(v.start),
      end: time(v.end),
      source_snapshot: v.sourceSnapshot,
      source_rows: v.sourceRows,
      new_rows: v.newRows,
      rows_offline: v.rowsOffline,
      rows_online: v.rowsOnline,
      note: v.note,
      error: v.error ?? null,
      duration_ms: v.durationMs,
    })),
    error: job.error,
    owner: job.owner,
  };
}
