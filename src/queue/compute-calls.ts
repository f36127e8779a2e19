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

  /** Whether parts of one piece of work run on other workers too (splitting it can then make it faster). */
  get spreadsParts(): boolean {
    return this.queue.spreadsParts;
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
