import { formatTimestamp } from '../core/timestamp';
import { MaterializationRun } from './materialization.service';

/** The JSON answer of /materialize and /materialize-incremental (Feast clients ignore the body). */
export function toMaterializationBody(run: MaterializationRun) {
  return {
    duration_ms: run.durationMs,
    feature_views: run.views.map((v) => ({
      name: v.view,
      start: formatTimestamp(v.start),
      end: formatTimestamp(v.end),
      source_snapshot: v.sourceSnapshot,
      skipped: v.sourceSnapshot === null ? 'the source dataset has no data yet' : undefined,
      rows_offline: v.rowsOffline,
      rows_online: v.rowsOnline,
      duration_ms: v.durationMs,
    })),
  };
}
