import { stat } from 'node:fs/promises';
import { DomainError, limitExceeded, ResultLimitExceededError, TimeLimitExceededError } from './errors';
import { formatSize } from './size';

/**
 * What stops a unit of work: an AbortSignal whose reason is the DomainError to answer with
 * (the client left, the server is shutting down, a time or size budget ran out). DuckDB
 * sessions given the signal interrupt their running statement when it fires (DuckDbDatabase).
 * `dispose` must be called when the work ends, to clear its timers.
 */
export interface WorkControl {
  signal: AbortSignal;
  dispose(): void;
}

export interface WorkBudget {
  /** Signals that stop the work too (the client's, the server's shutdown). */
  signals?: (AbortSignal | undefined)[];
  /** Wall-clock budget, and the config field that sets it (named in the error). */
  timeout?: { seconds: number; field: string };
}

export function workControl(budget: WorkBudget): WorkControl {
  const controller = new AbortController();
  const timers: NodeJS.Timeout[] = [];
  const unlink: (() => void)[] = [];
  for (const signal of budget.signals ?? []) {
    if (!signal) continue;
    if (signal.aborted) controller.abort(signal.reason);
    const follow = () => controller.abort(signal.reason);
    signal.addEventListener('abort', follow, { once: true });
    unlink.push(() => signal.removeEventListener('abort', follow));
  }
  if (budget.timeout) {
    const { seconds, field } = budget.timeout;
    const timer = setTimeout(() => controller.abort(new TimeLimitExceededError(`stopped after ${seconds} s: the work exceeds ${field} (${seconds} s)`, { limit: field, max: seconds })), seconds * 1000);
    timer.unref();
    timers.push(timer);
  }
  return {
    signal: controller.signal,
    dispose: () => {
      timers.forEach(clearTimeout);
      unlink.forEach((f) => f());
    },
  };
}

/**
 * Watches a file the engine is writing and stops the work once it passes `maxBytes`: a result
 * is refused while it is written, not after it filled the disk.
 */
export function watchFileSize(path: string, maxBytes: number, field: string, parent?: AbortSignal): WorkControl {
  const controller = new AbortController();
  const follow = () => controller.abort(parent?.reason);
  parent?.addEventListener('abort', follow, { once: true });
  if (parent?.aborted) follow();
  const timer = setInterval(() => {
    void stat(path).then(
      (s) => {
        if (s.size > maxBytes) controller.abort(limitExceeded(ResultLimitExceededError, `the result (over ${formatSize(s.size)} so far)`, field, maxBytes, formatSize(maxBytes)));
      },
      () => undefined, // not created yet
    );
  }, 200);
  timer.unref();
  return {
    signal: controller.signal,
    dispose: () => {
      clearInterval(timer);
      parent?.removeEventListener('abort', follow);
    },
  };
}

/** After the engine finished writing: a file it wrote too quickly for the watcher to catch is refused all the same. */
export async function assertFileSize(path: string, maxBytes: number, field: string): Promise<void> {
  const { size } = await stat(path);
  if (size > maxBytes) throw limitExceeded(ResultLimitExceededError, `the result (${formatSize(size)})`, field, maxBytes, formatSize(maxBytes));
}

/** The DomainError a stopped piece of work answers with, if it was stopped. */
export function stopReason(signal: AbortSignal | undefined): DomainError | undefined {
  return signal?.aborted && signal.reason instanceof DomainError ? signal.reason : undefined;
}

/** Runs `work` under a control and disposes of it afterwards. */
export async function withWorkControl<T>(budget: WorkBudget, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const control = workControl(budget);
  try {
    return await work(control.signal);
  } finally {
    control.dispose();
  }
}
