import { InjectFlowProducer, InjectQueue } from '@nestjs/bullmq';
import { Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { FlowProducer, Job as BullJob, JobsOptions, Queue, UnrecoverableError, Worker } from 'bullmq';
import Redis from 'ioredis';
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { DomainError, ErrorRecord, fromErrorRecord, JobCancelledError, MaterializationInProgressError, NoWorkerError, QueueUnavailableError, ShuttingDownError, TimeLimitExceededError } from '../common/errors';
import { ShutdownSignal } from '../common/shutdown-signal';
import { QueueConfig } from '../config/app-config';
import { CallHandler, CallOptions, classifyFailure, JobQueue, pollCancel, Task, TaskHandler, taskKey, TaskOutcome } from './job-queue';
import { decodeWire, encodeWire } from './wire';

export const TASK_QUEUE = 'featurelake-tasks';

/** How long a queue command may take before submission answers QUEUE_UNAVAILABLE. */
const COMMAND_TIMEOUT_MS = 2000;
/** How often a running task looks at its job's cancel flag. */
const CANCEL_POLL_MS = 500;
/** Progress, cancel flags and locks outlive a job by this much at most (a crashed holder's lock expires). */
const STATE_TTL_SECONDS = 7 * 24 * 3600;
/** A call's result waits this long for its caller to read it (a caller that gave up never does). */
const RESULT_TTL_SECONDS = 3600;
/** How often a waiting caller looks for its result besides the announcement (a pub/sub message lost in a reconnect). */
const RESULT_POLL_MS = 1000;
/** How long a call waits for some worker to be connected before it answers NO_WORKER. */
const WORKER_WAIT_MS = 3000;

/** Connection options (ioredis and BullMQ both take them) for a redis:// or rediss:// URL. */
export interface RedisAddress {
  host: string;
  port: number;
  username?: string;
  password?: string;
  db: number;
  tls?: Record<string, never>;
}

export function redisOptions(url: string): RedisAddress {
  const u = new URL(url);
  const db = u.pathname.length > 1 ? Number(u.pathname.slice(1)) : 0;
  return {
    host: u.hostname,
    port: Number(u.port || 6379),
    username: u.username ? decodeURIComponent(u.username) : undefined,
    password: u.password ? decodeURIComponent(u.password) : undefined,
    db,
    ...(u.protocol === 'rediss:' ? { tls: {} } : {}),
  };
}

/** The URL as messages show it: never its credentials. */
export function displayRedisUrl(url: string): string {
  const u = new URL(url);
  return `${u.protocol}//${u.host}${u.pathname.length > 1 ? u.pathname : ''}`;
}

/** A task's error as BullMQ keeps it (its failedReason): JSON with the task, so `finish` knows whose it was. */
function encodeFailure(task: Task, record: ErrorRecord): string {
  return JSON.stringify({ ...record, task });
}

const COMPARE_AND_SET = `local v = redis.call('GET', KEYS[1]) if v == false or v == ARGV[2] then redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[3]) return 1 end return 0`;
const COMPARE_AND_DELETE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;

/**
 * Jobs on BullMQ: tasks in one queue per project, fanned out as a flow (the `finish` task is the
 * parent of a job's `range` tasks, and runs when each has completed or failed for good:
 * `ignoreDependencyOnFailure`). Passing failures are retried with exponential back-off; a worker
 * that dies leaves its task's lock to expire, and BullMQ's stalled-job check gives the task to
 * another worker. Progress, cancel flags and view locks are plain keys beside the queue; a
 * job's end is announced on a pub/sub channel.
 */
@Injectable()
export class BullMqJobQueue extends JobQueue implements OnApplicationShutdown {
  readonly mode = 'redis';
  readonly location: string;
  readonly callsLeaveProcess = true;
  private readonly logger = new Logger(BullMqJobQueue.name);
  private readonly state: Redis;
  private subscriber?: Redis;
  private readonly finished = new EventEmitter();
  private handler?: TaskHandler;
  private callHandler?: CallHandler;
  private worker?: () => Worker;

  constructor(
    @InjectQueue(TASK_QUEUE) private readonly queue: Queue,
    @InjectFlowProducer(TASK_QUEUE) private readonly flows: FlowProducer,
    private readonly config: QueueConfig,
    private readonly project: string,
    private readonly shutdown: ShutdownSignal,
  ) {
    super();
    this.location = displayRedisUrl(config.url);
    // No offline queue: with Redis down, a command fails at once instead of waiting for it.
    this.state = new Redis({ ...redisOptions(config.url), enableOfflineQueue: false, lazyConnect: true, maxRetriesPerRequest: 1, commandTimeout: COMMAND_TIMEOUT_MS });
    this.state.on('error', () => undefined); // reported where a command fails
    // BullMQ prints errors nobody listens to; ours are reported where a command fails, and logged once per outage here.
    for (const emitter of [queue, flows] as NodeJS.EventEmitter[]) emitter.on('error', (error: Error) => this.outage(error));
    this.finished.setMaxListeners(0);
  }

  /** Called by the worker host (present in processes that run tasks). */
  attachWorker(worker: () => Worker): void {
    this.worker = worker;
  }

  async submit(jobId: string): Promise<void> {
    const task: Task = { kind: 'plan', jobId };
    await this.guard(() => this.queue.add(task.kind, task, this.jobOptions(task)));
  }

  async fanOut(tasks: Task[], then: Task): Promise<void> {
    const prefix = this.queue.opts.prefix; // the flow producer has none of its own: each node names the queue's
    const children = tasks.map((task) => ({ name: task.kind, queueName: this.queue.name, prefix, data: task, opts: { ...this.jobOptions(task), ignoreDependencyOnFailure: true } }));
    await this.guard(() => this.flows.add({ name: then.kind, queueName: this.queue.name, prefix, data: then, opts: this.jobOptions(then), children }));
  }

  async consume(handler: TaskHandler, concurrency: number): Promise<void> {
    this.handler = handler;
    const worker = this.worker?.();
    if (!worker) return; // this process only submits (serve --no-worker)
    worker.concurrency = concurrency;
    worker.on('error', (error) => this.outage(error));
    worker.on('failed', (job, error) => this.logger.warn(`task ${job?.name ?? '?'} ${job?.id ?? ''} failed: ${error.message}`));
    void worker.run().catch((error: unknown) => this.logger.error(`the worker stopped: ${String(error)}`));
  }

  handleCalls(handler: CallHandler): void {
    this.callHandler = handler;
  }

  /**
   * Queues the call and waits for its result, which the worker leaves under a key and
   * announces. No worker connected: NO_WORKER at once (a call is waited for, unlike a job, so
   * it is not left queued). The caller leaving or the wait running out cancels it on its worker.
   */
  async call(name: string, input: unknown, options: CallOptions): Promise<unknown> {
    if (!(await this.workerConnected())) {
      throw new NoWorkerError(`no worker takes tasks from the job queue at ${this.location}; start one (featurelake worker), or run serve without --no-worker`, { queue: this.location });
    }
    const task: Task = { kind: 'call', jobId: `call-${randomUUID()}`, name, input: encodeWire(input) };
    await this.subscribe();
    // Its outcome is under the result key, so BullMQ keeps nothing of it.
    await this.guard(() => this.queue.add(task.kind, task, { ...this.jobOptions(task), removeOnComplete: true, removeOnFail: true }));
    let outcome: { result?: unknown; error?: ErrorRecord };
    try {
      outcome = await this.awaitResult(task.jobId, options);
    } catch (error) {
      // Given up (the caller left, or the wait ran out): stop it on its worker, or take it off the queue if none started it.
      await this.requestCancel(task.jobId).catch(() => undefined);
      await this.queue.remove(`${task.jobId}-${taskKey(task)}`).catch(() => undefined);
      throw error;
    }
    if (outcome.error) throw fromErrorRecord(outcome.error);
    return outcome.result;
  }

  /**
   * Whether a worker will take the call: this process runs one (it reconnects by itself after an
   * outage), or another is connected — waited for a moment, since a worker that lost Redis for
   * a while shows again only once it has reconnected.
   */
  private async workerConnected(): Promise<boolean> {
    if (this.worker && this.handler) return true;
    const deadline = Date.now() + WORKER_WAIT_MS;
    for (;;) {
      if ((await this.guard(() => this.queue.getWorkersCount())) > 0) return true;
      if (Date.now() > deadline) return false;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }

  private async awaitResult(id: string, options: CallOptions): Promise<{ result?: unknown; error?: ErrorRecord }> {
    const deadline = Date.now() + options.waitSeconds * 1000;
    for (;;) {
      const outcome = await this.takeResult(id);
      if (outcome) return outcome;
      await this.waitForNews([id], deadline, options);
    }
  }

  /** The call's outcome if its worker left it (read once: the key is deleted); null while it runs, or with Redis away. */
  private async takeResult(id: string): Promise<{ result?: unknown; error?: ErrorRecord } | null> {
    const raw = await this.redis().then((r) => r.get(this.key('result', id))).catch(() => null); // Redis away: look again
    if (raw === null) return null;
    await (await this.redis()).del(this.key('result', id)).catch(() => undefined);
    return decodeWire(raw);
  }

  /** Waits for news of any of the calls (or a poll's worth); throws when the caller left or the wait ran out. */
  private async waitForNews(ids: string[], deadline: number, options: CallOptions): Promise<void> {
    if (options.signal?.aborted) throw options.signal.reason instanceof DomainError ? options.signal.reason : new JobCancelledError('the caller went away');
    if (Date.now() > deadline) {
      throw new TimeLimitExceededError(`no result within ${options.waitSeconds} s: the work exceeds limits.query_timeout_seconds, or no worker could take it`, { limit: 'limits.query_timeout_seconds' });
    }
    await this.nextNews(ids, Math.min(RESULT_POLL_MS, Math.max(0, deadline - Date.now())), options.signal);
  }

  /** Resolves on an announcement of one of the calls, after `ms`, or when `signal` fires, whichever is first. */
  private nextNews(ids: string[], ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        for (const id of ids) this.finished.off(id, done);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      for (const id of ids) this.finished.once(id, done);
      signal?.addEventListener('abort', done, { once: true });
    });
  }

  readonly spreadsParts = true;

  async workers(): Promise<number> {
    return this.guard(() => this.queue.getWorkersCount());
  }

  async runParts(name: string, inputs: unknown[], options: CallOptions): Promise<unknown[]> {
    const handler = this.callHandler;
    // A process that runs no tasks (a server) only hands the parts out.
    if (!this.worker || !this.handler || !handler) return Promise.all(inputs.map((input) => this.call(name, input, options)));
    const tasks = inputs.map((input): Task => ({ kind: 'call', jobId: `call-${randomUUID()}`, name, input: encodeWire(input) }));
    await this.subscribe();
    await this.guard(() => this.queue.addBulk(tasks.map((task) => ({ name: task.kind, data: task, opts: { ...this.jobOptions(task), removeOnComplete: true, removeOnFail: true } }))));
    const results: unknown[] = new Array(inputs.length);
    const open = new Set(inputs.map((_, i) => i));
    const deadline = Date.now() + options.waitSeconds * 1000;
    try {
      while (open.size > 0) {
        for (const i of [...open]) {
          const outcome = await this.takeResult(tasks[i].jobId);
          if (!outcome) continue;
          if (outcome.error) throw fromErrorRecord(outcome.error);
          results[i] = outcome.result;
          open.delete(i);
        }
        // Workers take parts from the front of the queue; this process takes one back from the end and runs it.
        const back = await this.takeBackLast(tasks, [...open]);
        if (back !== null) {
          results[back] = await handler(name, inputs[back], { signal: options.signal ?? new AbortController().signal, remote: false });
          open.delete(back);
        } else if (open.size > 0) {
          await this.waitForNews([...open].map((i) => tasks[i].jobId), deadline, options);
        }
      }
      return results;
    } catch (error) {
      for (const i of open) {
        await this.requestCancel(tasks[i].jobId).catch(() => undefined);
        await this.queue.remove(`${tasks[i].jobId}-${taskKey(tasks[i])}`).catch(() => undefined);
      }
      throw error;
    }
  }

  /**
   * Takes the last of the open parts that no worker holds off the queue; its index, or null. A
   * part a worker finished in the meantime may be taken too (BullMQ's removal cannot tell it from
   * a queued one): it then runs twice, to the same result.
   */
  private async takeBackLast(tasks: Task[], open: number[]): Promise<number | null> {
    const client = await this.redis();
    for (const i of open.reverse()) {
      const id = `${tasks[i].jobId}-${taskKey(tasks[i])}`;
      if ((await client.exists(this.queue.toKey(id))) === 0) continue;
      if ((await this.queue.remove(id)) === 1) return i;
    }
    return null;
  }

  /** A call on this worker: run under the caller's cancel flag and this process's shutdown; its result or final error left for the caller. */
  private async processCall(job: BullJob, task: Extract<Task, { kind: 'call' }>): Promise<{ task: Task; result: Record<string, unknown> }> {
    if (!this.callHandler) throw new Error('no call handler is registered in this process');
    const controller = new AbortController();
    const stopPolling = this.onCancel(task.jobId, () => controller.abort(new JobCancelledError('the caller went away or gave up')));
    const onShutdown = () => controller.abort(new ShuttingDownError('the worker is shutting down; the call runs again elsewhere'));
    this.shutdown.signal.addEventListener('abort', onShutdown, { once: true });
    const attempt = job.attemptsMade + 1;
    try {
      const result = await this.callHandler(task.name, decodeWire(task.input), { signal: controller.signal, remote: true });
      await this.settleCall(task.jobId, { result });
      return { task: { ...task, input: '' }, result: {} };
    } catch (error) {
      const { record, retry } = classifyFailure(error);
      const final = !retry || attempt >= (job.opts.attempts ?? 1) || controller.signal.reason instanceof JobCancelledError;
      if (final) await this.settleCall(task.jobId, { error: record }).catch(() => undefined);
      const encoded = encodeFailure({ ...task, input: '' }, record);
      throw final ? new UnrecoverableError(encoded) : new Error(encoded);
    } finally {
      stopPolling();
      this.shutdown.signal.removeEventListener('abort', onShutdown);
    }
  }

  private async settleCall(id: string, outcome: { result?: unknown; error?: ErrorRecord }): Promise<void> {
    await (await this.redis()).multi().set(this.key('result', id), encodeWire(outcome), 'EX', RESULT_TTL_SECONDS).del(this.key('cancel', id)).publish(this.channel(), id).exec();
  }

  /** The worker host's `process`: runs the task with the handler; errors go back to BullMQ encoded, final ones unrecoverable. */
  async process(job: BullJob): Promise<{ task: Task; result: Record<string, unknown> }> {
    const task = job.data as Task;
    if (task.kind === 'call') return this.processCall(job, task);
    if (!this.handler) throw new Error('no task handler is registered in this process');
    const attempt = job.attemptsMade + 1;
    try {
      const result = await this.handler.run(task, { attempt, finalAttempt: attempt >= (job.opts.attempts ?? 1), signal: this.shutdown.signal, outcomes: () => this.outcomes(job) });
      return { task, result };
    } catch (error) {
      const { record, retry } = classifyFailure(error);
      const encoded = encodeFailure(task, record);
      throw retry ? new Error(encoded) : new UnrecoverableError(encoded);
    }
  }

  async reportProgress(jobId: string, key: string, fraction: number): Promise<void> {
    await (await this.redis()).multi().hset(this.key('progress', jobId), key, String(fraction)).expire(this.key('progress', jobId), STATE_TTL_SECONDS).exec();
  }

  async progress(jobId: string): Promise<Map<string, number>> {
    const fields = await (await this.redis()).hgetall(this.key('progress', jobId));
    return new Map(Object.entries(fields).map(([k, v]) => [k, Number(v)]));
  }

  async requestCancel(jobId: string): Promise<void> {
    await this.guard(async () => (await this.redis()).set(this.key('cancel', jobId), '1', 'EX', STATE_TTL_SECONDS));
  }

  async isCancelled(jobId: string): Promise<boolean> {
    return (await (await this.redis()).exists(this.key('cancel', jobId))) === 1;
  }

  onCancel(jobId: string, listener: () => void): () => void {
    return pollCancel(() => this.isCancelled(jobId), listener, CANCEL_POLL_MS);
  }

  async lockViews(jobId: string, views: string[], holderActive: (jobId: string) => Promise<boolean>): Promise<void> {
    const taken: string[] = [];
    try {
      for (const view of views) {
        const key = this.key('lock', view);
        if ((await this.guard(async () => (await this.redis()).eval(COMPARE_AND_SET, 1, key, jobId, jobId, STATE_TTL_SECONDS))) === 1) {
          taken.push(view);
          continue;
        }
        const holder = await (await this.redis()).get(key);
        // A holder whose job has ended (its process died before unlocking) holds nothing.
        if (holder && (await holderActive(holder))) throw new MaterializationInProgressError(`feature view ${view} is already being materialized by job ${holder}`, { job_id: holder, view });
        if ((await (await this.redis()).eval(COMPARE_AND_SET, 1, key, jobId, holder ?? '', STATE_TTL_SECONDS)) !== 1) throw new MaterializationInProgressError(`feature view ${view} was just taken by another job`, { view });
        taken.push(view);
      }
    } catch (error) {
      await this.unlockViews(jobId, taken).catch(() => undefined);
      throw error;
    }
  }

  async unlockViews(jobId: string, views: string[]): Promise<void> {
    for (const view of views) await (await this.redis()).eval(COMPARE_AND_DELETE, 1, this.key('lock', view), jobId);
  }

  async announceFinished(jobId: string): Promise<void> {
    await (await this.redis()).multi().del(this.key('progress', jobId), this.key('cancel', jobId)).publish(this.channel(), jobId).exec();
  }

  async whenFinished(jobId: string, isFinished: () => Promise<boolean>): Promise<void> {
    await this.subscribe();
    const announced = new Promise<void>((resolve) => this.finished.once(jobId, resolve));
    if (await isFinished()) return;
    await announced;
  }

  async holdsTasks(jobId: string): Promise<boolean> {
    const ids = (['plan', 'finish'] as const).map((kind) => `${jobId}-${taskKey({ kind, jobId })}`);
    const found = await this.guard(() => Promise.all(ids.map((id) => this.queue.getJob(id))));
    return found.some((job) => job !== undefined && job !== null);
  }

  async abandonedTask(jobId: string): Promise<TaskOutcome | null> {
    for (const kind of ['plan', 'finish'] as const) {
      const job = await this.guard(() => this.queue.getJob(`${jobId}-${taskKey({ kind, jobId })}`));
      // 'failed' is final on BullMQ: a task with tries left waits as 'delayed'.
      if (job && (await job.getState()) === 'failed') return this.failureOutcome(job.id ?? '', job.failedReason);
    }
    return null;
  }

  async ping(): Promise<void> {
    await this.guard(async () => (await this.redis()).ping());
  }

  async onApplicationShutdown(): Promise<void> {
    this.state.disconnect();
    this.subscriber?.disconnect();
  }

  private lastOutage = 0;

  /** A lost connection is logged at most every 30 s (ioredis reconnects by itself). */
  private outage(error: Error): void {
    if (Date.now() - this.lastOutage < 30_000) return;
    this.lastOutage = Date.now();
    this.logger.warn(`the job queue at ${this.location} is unreachable: ${error.message}`);
  }

  private async subscribe(): Promise<void> {
    if (this.subscriber) return;
    this.subscriber = new Redis({ ...redisOptions(this.config.url), lazyConnect: true });
    this.subscriber.on('error', () => undefined);
    this.subscriber.on('message', (_channel: string, jobId: string) => this.finished.emit(jobId));
    await this.guard(() => this.subscriber!.subscribe(this.channel()));
  }

  /** Failures of `finish`'s children, and their results, as outcomes. */
  private async outcomes(job: BullJob): Promise<TaskOutcome[]> {
    const values = await job.getChildrenValues<{ task: Task; result: Record<string, unknown> }>();
    const failures = await job.getIgnoredChildrenFailures();
    const outcomes: TaskOutcome[] = Object.values(values).map((v) => ({ task: v.task, result: v.result }));
    for (const [jobKey, reason] of Object.entries(failures)) outcomes.push(await this.failureOutcome(jobKey, reason));
    return outcomes;
  }

  private async failureOutcome(jobKey: string, reason: string): Promise<TaskOutcome> {
    try {
      const { task, ...record } = JSON.parse(reason) as ErrorRecord & { task: Task };
      return { task, error: record };
    } catch {
      // Not ours: BullMQ's own (a task whose workers kept dying: "job stalled more than allowable limit").
      const child = await BullJob.fromId(this.queue, jobKey.slice(jobKey.lastIndexOf(':') + 1));
      return { task: child?.data as Task, error: { code: 'TASK_ABANDONED', message: `the task was given up: ${reason}`, status: 500 } };
    }
  }

  private jobOptions(task: Task): JobsOptions {
    return {
      jobId: `${task.jobId}-${taskKey(task)}`,
      attempts: this.config.attempts,
      backoff: { type: 'exponential', delay: 1000 },
      removeOnComplete: { age: 24 * 3600, count: 10_000 },
      removeOnFail: { age: STATE_TTL_SECONDS },
    };
  }

  /** Runs a queue command, turning "Redis is not there" into QUEUE_UNAVAILABLE at once. */
  private async guard<T>(command: () => Promise<T>): Promise<T> {
    try {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${COMMAND_TIMEOUT_MS} ms`)), COMMAND_TIMEOUT_MS)));
      try {
        return await Promise.race([command(), timeout]);
      } finally {
        clearTimeout(timer);
      }
    } catch (error) {
      if (error instanceof MaterializationInProgressError) throw error;
      throw new QueueUnavailableError(`the job queue at ${this.location} is unavailable (${error instanceof Error ? error.message : String(error)}); serving is not affected; try again when Redis is back`, { queue: this.location });
    }
  }

  /**
   * The state connection, connected: it has no offline queue (a command while Redis is away
   * fails at once), so it is connected first, waiting at most COMMAND_TIMEOUT_MS.
   */
  private async redis(): Promise<Redis> {
    const client = this.state;
    if (client.status === 'ready') return client;
    if (client.status === 'wait' || client.status === 'end') void client.connect().catch(() => undefined);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => done(new Error(`no connection within ${COMMAND_TIMEOUT_MS} ms`)), COMMAND_TIMEOUT_MS);
      const onReady = () => done();
      const done = (error?: Error) => {
        clearTimeout(timer);
        client.off('ready', onReady);
        if (error) reject(error);
        else resolve();
      };
      client.on('ready', onReady);
    });
    return client;
  }

  private key(kind: string, id: string): string {
    return `featurelake:${this.project}:${kind}:${id}`;
  }

  private channel(): string {
    return `featurelake:${this.project}:finished`;
  }
}
