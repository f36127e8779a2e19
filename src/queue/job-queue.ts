import { ErrorRecord, errorRecord } from '../common/errors';

/**
 * One unit of work, as the queue carries it (plain JSON, so any worker can take it). A
 * materialization job is a `plan`, which reads what the job will do and fans out `range` tasks
 * (a feature view's buckets each) that run in parallel on any workers, and a `finish` that runs
 * once all of them have ended. A `call` is request-response compute a server hands to a worker
 * and waits for (a historical retrieval, a training set, a skew check, an ingest); its `jobId`
 * is the call's id and its input is wire JSON (wire.ts).
 */
export type Task =
  | { kind: 'plan'; jobId: string }
  | { kind: 'range'; jobId: string; view: string; buckets: number[] }
  | { kind: 'finish'; jobId: string }
  | { kind: 'call'; jobId: string; name: string; input: string };

/** A fanned-out task as `finish` sees it: what it returned, or the error it failed with for good. */
export interface TaskOutcome {
  task: Task;
  result?: Record<string, unknown>;
  error?: ErrorRecord;
}

export interface TaskContext {
  /** Which try this is (1 for the first): a task may run again after its worker died. */
  attempt: number;
  /** No further try follows if this one fails (a `plan` or `finish` then ends its job itself). */
  finalAttempt: boolean;
  /** Stopped when this process shuts down (the task is then tried again elsewhere). */
  signal: AbortSignal;
  /** The outcomes of the tasks fanned out before this one (a `finish`); empty for others. */
  outcomes(): Promise<TaskOutcome[]>;
}

export interface TaskHandler {
  run(task: Task, context: TaskContext): Promise<Record<string, unknown>>;
}

export interface CallContext {
  /** Stopped when the caller went away or gave up, or this process shuts down (the reason is the DomainError). */
  signal: AbortSignal;
  /** The call came over the queue from another process: files it returns must be in the lake, not on this machine's disk. */
  remote: boolean;
}

/** Runs a call by name: input and result are JSON (bigints allowed). */
export type CallHandler = (name: string, input: unknown, context: CallContext) => Promise<unknown>;

export interface CallOptions {
  /** The caller's own stop (its client left): the call is cancelled on its worker. */
  signal?: AbortSignal;
  /** How long to wait for the result at most: the work's own budget, plus the time to reach a worker. */
  waitSeconds: number;
}

/** Thrown by a handler for an error that trying again cannot fix: the task fails at once. */
export class FinalTaskError extends Error {
  constructor(readonly record: ErrorRecord) {
    super(record.message);
  }
}

/**
 * The queue jobs go through, whichever runs it: BullMQ on Redis (workers in other processes or
 * machines), or `local` (in this process). Besides tasks it keeps what every process of a job
 * shares while it runs: per-task progress, the cancel flag, per-view locks, and the news that a
 * job finished. The job's record itself lives in the lake (JobStore).
 */
export abstract class JobQueue {
  abstract readonly mode: 'local' | 'redis';

  /** Where it is, for messages (`local`, or the Redis URL without credentials). */
  abstract readonly location: string;

  /** The process whose death loses this queue's tasks (a local queue's jobs are its): this one, or the server that forked it. */
  readonly keeperPid: number = process.pid;

  /** Whether calls run in another process (a worker): files they take or give then travel through the lake. */
  abstract readonly callsLeaveProcess: boolean;

  /** Queues a job's first task. QUEUE_UNAVAILABLE (503) at once when the queue cannot take it. */
  abstract submit(jobId: string): Promise<void>;

  /** Queues `tasks` to run in parallel, and `then` to run once every one of them has ended. */
  abstract fanOut(tasks: Task[], then: Task): Promise<void>;

  /** Starts running tasks in this process with `handler`, `concurrency` at a time. */
  abstract consume(handler: TaskHandler, concurrency: number): Promise<void>;

  /**
   * Runs a call and resolves with its result: on a worker, over BullMQ (NO_WORKER at once when
   * no worker is connected, its error carried back as it was when it fails), or in this process
   * on the local queue.
   */
  abstract call(name: string, input: unknown, options: CallOptions): Promise<unknown>;

  /** Whether `runParts` spreads parts over other processes: whether splitting one piece of work can make it faster. */
  abstract readonly spreadsParts: boolean;

  /** How many processes take tasks from the queue now (this one included when it does); 1 where only this process runs them. */
  abstract workers(): Promise<number>;

  /**
   * Runs the parts of one piece of work as calls, from the process that does the work (a worker,
   * or the CLI): on BullMQ spread over the workers, this process taking back every part no
   * worker has started yet — so a worker that splits its work never waits on a queue that only
   * it would empty; elsewhere one after another in this process. Results in input order; the
   * first part that fails for good fails them all (the rest are cancelled).
   */
  abstract runParts(name: string, inputs: unknown[], options: CallOptions): Promise<unknown[]>;

  /** Sets what runs the calls this process takes (every process sets it; only workers use it on BullMQ). */
  abstract handleCalls(handler: CallHandler): void;

  /** Records how far a running task is (0…1), under a key unique within its job. */
  abstract reportProgress(jobId: string, taskKey: string, fraction: number): Promise<void>;

  /** The progress every task of the job reported so far, by task key. */
  abstract progress(jobId: string): Promise<Map<string, number>>;

  /** Raises the job's cancel flag, which its tasks poll. */
  abstract requestCancel(jobId: string): Promise<void>;

  abstract isCancelled(jobId: string): Promise<boolean>;

  /** Calls `listener` once the job's cancel flag is raised (at once in this process, within a poll elsewhere); returns the unsubscribe. */
  abstract onCancel(jobId: string, listener: () => void): () => void;

  /** Takes the views for the job; MATERIALIZATION_IN_PROGRESS naming the holder when another live job has one. `holderActive` says whether a holder still runs. */
  abstract lockViews(jobId: string, views: string[], holderActive: (jobId: string) => Promise<boolean>): Promise<void>;

  abstract unlockViews(jobId: string, views: string[]): Promise<void>;

  /** Tells every process waiting on the job that it has finished (its record is final). */
  abstract announceFinished(jobId: string): Promise<void>;

  /** Resolves once the job has finished: on the announcement, or when `isFinished` says so (checked once subscribed, so no announcement is missed). */
  abstract whenFinished(jobId: string, isFinished: () => Promise<boolean>): Promise<void>;

  /** Whether the queue still holds any task of the job (false after a Redis that lost its data, say). */
  abstract holdsTasks(jobId: string): Promise<boolean>;

  /**
   * The job's `plan` or `finish` task if it failed for good without ending its job (its worker
   * could not write the job's record: the lake unreachable from there, say), with its error;
   * null otherwise.
   */
  abstract abandonedTask(jobId: string): Promise<TaskOutcome | null>;

  /** Resolves when the queue answers; QUEUE_UNAVAILABLE otherwise. */
  abstract ping(): Promise<void>;
}

/**
 * Calls `listener` once `isCancelled` says yes, asking every `everyMs`; returns the unsubscribe.
 * A failed ask (the queue away) is ignored: the work carries on, and a cancel is seen once it answers.
 */
export function pollCancel(isCancelled: () => Promise<boolean>, listener: () => void, everyMs: number): () => void {
  const poll = setInterval(() => {
    isCancelled().then(
      (yes) => {
        if (!yes) return;
        clearInterval(poll);
        listener();
      },
      () => undefined,
    );
  }, everyMs);
  return () => clearInterval(poll);
}

/** Parts run one after another in this process, each as a call from here (its files stay local). */
export async function runPartsHere(handler: CallHandler | undefined, name: string, inputs: unknown[], signal?: AbortSignal): Promise<unknown[]> {
  if (!handler) throw new Error('no call handler is registered in this process');
  const results: unknown[] = [];
  for (const input of inputs) results.push(await handler(name, input, { signal: signal ?? new AbortController().signal, remote: false }));
  return results;
}

/** A stable key for a task within its job (progress fields, BullMQ job ids). */
export function taskKey(task: Task): string {
  if (task.kind === 'range') return `range-${task.view}-${task.buckets[0]}-${task.buckets[task.buckets.length - 1]}`;
  return task.kind;
}

/** Codes of errors that pass: the task is tried again (with back-off). Anything else, an unexpected error included, fails it at once. */
export const TRANSIENT_CODES: readonly string[] = ['LAKE_UNAVAILABLE', 'ONLINE_STORE_UNAVAILABLE', 'COMMIT_CONFLICT', 'SHUTTING_DOWN', 'QUEUE_UNAVAILABLE'];

/** How a task's failure is handled: its error as recorded, and whether another try may succeed. */
export function classifyFailure(error: unknown): { record: ErrorRecord; retry: boolean } {
  if (error instanceof FinalTaskError) return { record: error.record, retry: false };
  const record = errorRecord(error);
  return { record, retry: TRANSIENT_CODES.includes(record.code) };
}
