import { DuckDBConnection } from '@duckdb/node-api';
import { JobCancelledError } from '../common/errors';
import { stopReason } from '../common/work-control';

const PROGRESS_INTERVAL_MS = 250;

/** What the engine reports while a long statement runs. */
export interface EngineProgress {
  /** 0…1 when the engine can tell, else null. */
  fraction: number | null;
  rowsProcessed: number;
}

/** Cancellation and progress for a long-running statement. */
export interface RunControl {
  /** Stops the work; a DomainError reason (a budget ran out, the client left) is what the work then fails with. */
  signal?: AbortSignal;
  onProgress?: (progress: EngineProgress) => void;
}

/** Runs a long statement, reporting the engine's progress and interrupting it on cancellation. */
export async function watched<T>(c: DuckDBConnection, control: RunControl, statement: () => Promise<T>): Promise<T> {
  if (control.onProgress) {
    // Progress is tracked by the engine only when asked, and must never print to our terminal.
    await c.run('SET enable_progress_bar = true; SET enable_progress_bar_print = false; SET progress_bar_time = 0');
  }
  const interrupt = () => c.interrupt();
  control.signal?.addEventListener('abort', interrupt);
  const timer = control.onProgress
    ? setInterval(() => {
        const progress = c.progress;
        control.onProgress?.({ fraction: progress.percentage >= 0 ? progress.percentage / 100 : null, rowsProcessed: Number(progress.rows_processed) });
      }, PROGRESS_INTERVAL_MS)
    : undefined;
  try {
    if (control.signal?.aborted) throw stoppedError(control.signal);
    return await statement();
  } finally {
    if (timer) clearInterval(timer);
    control.signal?.removeEventListener('abort', interrupt);
  }
}


/** Why stopped work failed: the signal's own DomainError, or a plain cancellation. */
export function stoppedError(signal: AbortSignal): Error {
  return stopReason(signal) ?? new JobCancelledError('cancelled; nothing was changed');
}
