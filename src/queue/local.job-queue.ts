import { Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { EventEmitter } from 'node:events';
import { MaterializationInProgressError } from '../common/errors';
import { ShutdownSignal } from '../common/shutdown-signal';
import { CallHandler, CallOptions, classifyFailure, JobQueue, runPartsHere, Task, TaskContext, TaskHandler, TaskOutcome } from './job-queue';

/** Another process that runs this queue's tasks and calls (the worker `serve` forked): the queue still decides what runs when. */
export interface TaskExecutor {
  runTask(task: Task, context: TaskContext): Promise<Record<string, unknown>>;
  runCall(name: string, input: unknown, signal?: AbortSignal): Promise<unknown>;
}

/** Back-off before the n-th retry of a task: 0.5 s, 1 s, 2 s, … */
const RETRY_BASE_MS = 500;

interface Fan {
  remaining: number;
  outcomes: TaskOutcome[];
  then: Task;
}

interface Entry {
  task: Task;
  attempt: number;
  /** The fan-out this task belongs to, or the outcomes it was given (a `then`). */
  fan?: Fan;
  outcomes?: TaskOutcome[];
}

/**
 * The queue of the embedded default: tasks run in this process, `concurrency` at a time, with
 * the same semantics as on BullMQ — retries with back-off for passing failures, a fan-out's
 * `then` once all of its tasks ended, per-view locks, progress and cancel flags — kept in
 * memory, since only this process runs them.
 */
@Injectable()
export class LocalJobQueue extends JobQueue implements OnApplicationShutdown {
  readonly mode = 'local';
  readonly location = 'local';
  private readonly logger = new Logger(LocalJobQueue.name);
  private readonly ready: Entry[] = [];
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly progressByJob = new Map<string, Map<string, number>>();
  private readonly cancelled = new Set<string>();
  private readonly locks = new Map<string, string>();
  private readonly finished = new EventEmitter();
  private readonly cancels = new EventEmitter();
  private handler?: TaskHandler;
  private callHandler?: CallHandler;
  private executor?: TaskExecutor;
  private concurrency = 1;
  private running = 0;
  private closed = false;

  constructor(
    private readonly shutdown: ShutdownSignal,
    private readonly attempts = 3,
  ) {
    super();
    this.finished.setMaxListeners(0);
    this.cancels.setMaxListeners(0);
  }

  async submit(jobId: string): Promise<void> {
    this.push({ task: { kind: 'plan', jobId }, attempt: 1 });
  }

  async fanOut(tasks: Task[], then: Task): Promise<void> {
    if (tasks.length === 0) return this.push({ task: then, attempt: 1, outcomes: [] });
    const fan: Fan = { remaining: tasks.length, outcomes: [], then };
    for (const task of tasks) this.push({ task, attempt: 1, fan });
  }

  async consume(handler: TaskHandler, concurrency: number): Promise<void> {
    this.handler = handler;
    this.concurrency = concurrency;
    this.pump();
  }

  /** Hands every task and call from now on to `executor` instead of running them in this process. */
  delegate(executor: TaskExecutor): void {
    this.executor = executor;
    this.pump();
  }

  get callsLeaveProcess(): boolean {
    return this.executor !== undefined;
  }

  /** A call runs at once, beside whatever else runs (as a request always did): only the caller waits for it. */
  async call(name: string, input: unknown, options: CallOptions): Promise<unknown> {
    if (this.executor) return this.executor.runCall(name, input, options.signal);
    if (!this.callHandler) throw new Error('no call handler is registered in this process');
    return this.callHandler(name, input, { signal: options.signal ?? new AbortController().signal, remote: false });
  }

  readonly spreadsParts = false;

  async workers(): Promise<number> {
    return 1;
  }

  /** Parts of the work of a call this process runs (the CLI's, say): here, one after another. */
  async runParts(name: string, inputs: unknown[], options: CallOptions): Promise<unknown[]> {
    return runPartsHere(this.callHandler, name, inputs, options.signal);
  }

  handleCalls(handler: CallHandler): void {
    this.callHandler = handler;
  }

  async reportProgress(jobId: string, taskKey: string, fraction: number): Promise<void> {
    const progress = this.progressByJob.get(jobId) ?? new Map<string, number>();
    progress.set(taskKey, fraction);
    this.progressByJob.set(jobId, progress);
  }

  async progress(jobId: string): Promise<Map<string, number>> {
    return new Map(this.progressByJob.get(jobId) ?? []);
  }

  async requestCancel(jobId: string): Promise<void> {
    this.cancelled.add(jobId);
    this.cancels.emit(jobId);
  }

  onCancel(jobId: string, listener: () => void): () => void {
    if (this.cancelled.has(jobId)) {
      listener();
      return () => undefined;
    }
    this.cancels.once(jobId, listener);
    return () => this.cancels.off(jobId, listener);
  }

  async isCancelled(jobId: string): Promise<boolean> {
    return this.cancelled.has(jobId);
  }

  async lockViews(jobId: string, views: string[]): Promise<void> {
    for (const view of views) {
      const holder = this.locks.get(view);
      if (holder && holder !== jobId) throw new MaterializationInProgressError(`feature view ${view} is already being materialized by job ${holder}`, { job_id: holder, view });
    }
    for (const view of views) this.locks.set(view, jobId);
  }

  async unlockViews(jobId: string, views: string[]): Promise<void> {
    for (const view of views) if (this.locks.get(view) === jobId) this.locks.delete(view);
  }

  async announceFinished(jobId: string): Promise<void> {
    this.progressByJob.delete(jobId);
    this.cancelled.delete(jobId);
    this.finished.emit(jobId);
  }

  async whenFinished(jobId: string, isFinished: () => Promise<boolean>): Promise<void> {
    const announced = new Promise<void>((resolve) => this.finished.once(jobId, resolve));
    if (await isFinished()) return;
    await announced;
  }

  /** Local jobs are checked by their process instead (LakeJobStore): a live process holds its tasks. */
  async holdsTasks(): Promise<boolean> {
    return true;
  }

  /** A local plan or finish that fails for good ends its job itself (it runs beside the job's record). */
  async abandonedTask(): Promise<TaskOutcome | null> {
    return null;
  }

  async ping(): Promise<void> {}

  onApplicationShutdown(): void {
    this.closed = true;
    this.timers.forEach(clearTimeout);
  }

  private push(entry: Entry): void {
    this.ready.push(entry);
    this.pump();
  }

  private pump(): void {
    const run = this.executor ?? this.handler;
    while (!this.closed && run && this.running < this.concurrency && this.ready.length > 0) void this.start(this.ready.shift()!);
  }

  private async start(entry: Entry): Promise<void> {
    this.running++;
    try {
      const run = (task: Task, context: TaskContext) => (this.executor ? this.executor.runTask(task, context) : this.handler!.run(task, context));
      const result = await run(entry.task, { attempt: entry.attempt, finalAttempt: entry.attempt >= this.attempts, signal: this.shutdown.signal, outcomes: async () => entry.outcomes ?? [] });
      this.settle(entry, { task: entry.task, result });
    } catch (error) {
      const { record, retry } = classifyFailure(error);
      if (retry && entry.attempt < this.attempts && !this.closed) {
        this.logger.warn(`task ${entry.task.kind} of job ${entry.task.jobId} failed (${record.code}: ${record.message}); trying again`);
        const timer = setTimeout(() => {
          this.timers.delete(timer);
          this.push({ ...entry, attempt: entry.attempt + 1 });
        }, RETRY_BASE_MS * 2 ** (entry.attempt - 1));
        this.timers.add(timer);
      } else {
        this.settle(entry, { task: entry.task, error: record });
      }
    } finally {
      this.running--;
      this.pump();
    }
  }

  private settle(entry: Entry, outcome: TaskOutcome): void {
    const fan = entry.fan;
    if (!fan) return;
    fan.outcomes.push(outcome);
    if (--fan.remaining === 0) this.push({ task: fan.then, attempt: 1, outcomes: fan.outcomes });
  }
}
