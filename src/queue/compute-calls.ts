import { Injectable } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { CallContext, JobQueue } from './job-queue';

/** How long a caller waits for a worker beyond the work's own budget (reaching one, a retry after a worker died). */
const QUEUE_GRACE_SECONDS = 60;

type Handler = (input: never, context: CallContext) => Promise<unknown>;

/**
 * Compute a request waits for, run where compute runs: each feature registers its calls by name
 * (every process registers the same ones) and runs them through here. On the local queue a call
 * runs in this process; on BullMQ it runs on a worker and its result comes back, so a serving
 * process runs no DuckDB statement over lake data and no per-row loop of a job.
 */
@Injectable()
export class ComputeCalls {
  private readonly handlers = new Map<string, Handler>();

  constructor(
    private readonly queue: JobQueue,
    private readonly config: AppConfig,
  ) {
    queue.handleCalls((name, input, context) => this.dispatch(name, input, context));
  }

  /** Whether calls leave this process (their files then travel through the lake). */
  get remote(): boolean {
    return this.queue.callsLeaveProcess;
  }

  /**
   * Into how many parts one piece of work is worth splitting, at most `max`: one per worker
   * taking tasks now where parts spread over workers, one otherwise. (A part costs more than its
   * share — each reads what it joins against — so parts beyond the workers only add cost.)
   */
  async partsWorthRunning(max: number): Promise<number> {
    if (!this.queue.spreadsParts) return 1;
    return Math.max(1, Math.min(max, await this.queue.workers().catch(() => 1)));
  }

  register<I, O>(name: string, handler: (input: I, context: CallContext) => Promise<O>): void {
    if (this.handlers.has(name)) throw new Error(`call ${name} is registered twice`);
    this.handlers.set(name, handler as Handler);
  }

  /** Runs the call and resolves with its result; `signal` (the client left) cancels it. */
  async run<I, O>(name: string, input: I, signal?: AbortSignal): Promise<O> {
    return (await this.queue.call(name, input, { signal, waitSeconds: this.config.limits.queryTimeoutSeconds + QUEUE_GRACE_SECONDS })) as O;
  }

  /** Runs the parts of the work of a call this process is running (JobQueue.runParts); results in input order. */
  async runParts<I, O>(name: string, inputs: I[], signal?: AbortSignal): Promise<O[]> {
    return (await this.queue.runParts(name, inputs, { signal, waitSeconds: this.config.limits.queryTimeoutSeconds + QUEUE_GRACE_SECONDS })) as O[];
  }

  private dispatch(name: string, input: unknown, context: CallContext): Promise<unknown> {
    const handler = this.handlers.get(name);
    if (!handler) throw new Error(`no call named ${name} is registered in this process`);
    return handler(input as never, context);
  }
}
