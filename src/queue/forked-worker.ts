import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { errorRecord, NoWorkerError, ShuttingDownError } from '../common/errors';
import { OnlineStore } from '../online-store/online-store';
import { IpcChannel } from './ipc-channel';
import { Task, TaskContext } from './job-queue';
import { LocalJobQueue, TaskExecutor } from './local.job-queue';
import { ForkedTask } from './parent.job-queue';

/** Starts the worker process (with an IPC channel, `serialization: 'advanced'`). */
export type WorkerSpawner = () => ChildProcess;

/** How long work waits for the worker process to be up (it restarts 1 s after it died, and boots in a few). */
const READY_TIMEOUT_MS = 60_000;
const RESTART_DELAY_MS = 1000;
/** A worker that does not stop within this after SIGTERM is killed. */
const STOP_TIMEOUT_MS = 15_000;

/** The queue operations a forked worker may ask of the server, and the online-store ones (the embedded store is the server's). */
const QUEUE_METHODS = ['submit', 'fanOut', 'reportProgress', 'progress', 'requestCancel', 'isCancelled', 'unlockViews', 'announceFinished', 'holdsTasks', 'ping'] as const;
const ONLINE_METHODS = ['write', 'read', 'readEpoch', 'writeEpoch', 'ping'] as const;

/**
 * The worker `serve` forks on the embedded default (no Redis): a child process at a lower OS
 * priority that runs the local queue's tasks and calls, so that their DuckDB statements and row
 * loops never hold the server's event loop. The queue stays here (retries, locks, progress);
 * the child asks for it, and for the embedded online store, over the IPC channel: a DuckDB file
 * has one writer, and the server must keep it to serve reads from it. A child that dies is
 * started again; its tasks fail with SHUTTING_DOWN and the queue retries them.
 */
@Injectable()
export class ForkedWorker implements TaskExecutor, OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('ForkedWorker');
  private child?: ChildProcess;
  private ready?: Promise<IpcChannel>;
  private markReady?: (channel: IpcChannel) => void;
  private stopping = false;

  constructor(
    private readonly queue: LocalJobQueue,
    private readonly online: OnlineStore,
    private readonly spawn: WorkerSpawner,
  ) {}

  onApplicationBootstrap(): void {
    this.expectReady();
    this.start();
    this.queue.delegate(this);
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopping = true;
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
    await exited;
    clearTimeout(timer);
  }

  async runTask(task: Task, context: TaskContext): Promise<Record<string, unknown>> {
    const channel = await this.whenReady();
    const forked: ForkedTask = { task, attempt: context.attempt, finalAttempt: context.finalAttempt, outcomes: await context.outcomes() };
    return channel.request('task', forked);
  }

  async runCall(name: string, input: unknown, signal?: AbortSignal): Promise<unknown> {
    const channel = await this.whenReady();
    const id = randomUUID();
    const cancel = () => void channel.request('cancel-call', id, errorRecord(signal?.reason)).catch(() => undefined);
    signal?.addEventListener('abort', cancel, { once: true });
    try {
      return await channel.request('call', id, name, input);
    } finally {
      signal?.removeEventListener('abort', cancel);
    }
  }

  /** From now until the next worker says it is up, work waits for it. */
  private expectReady(): void {
    this.ready = new Promise((resolve) => (this.markReady = resolve));
  }

  private start(): void {
    const child = this.spawn();
    const channel = new IpcChannel(child);
    this.child = child;
    channel.handle('ready', async () => this.markReady?.(channel));
    channel.handle('queue', (method: (typeof QUEUE_METHODS)[number], ...args: unknown[]) => {
      if (!QUEUE_METHODS.includes(method)) throw new Error(`queue method ${String(method)} is not for workers`);
      return (this.queue[method] as (...a: unknown[]) => Promise<unknown>).apply(this.queue, args);
    });
    channel.handle('online', (method: (typeof ONLINE_METHODS)[number], ...args: unknown[]) => {
      if (!ONLINE_METHODS.includes(method)) throw new Error(`online-store method ${String(method)} is not for workers`);
      return (this.online[method] as (...a: unknown[]) => Promise<unknown>).apply(this.online, args);
    });
    child.once('exit', (code, signal) => {
      channel.close(new ShuttingDownError(`the worker process exited (${signal ?? code}); its work runs again`));
      if (this.stopping) return;
      this.expectReady();
      this.logger.warn(`the worker process (pid ${child.pid}) exited (${signal ?? code}); starting another in ${RESTART_DELAY_MS / 1000} s`);
      setTimeout(() => this.start(), RESTART_DELAY_MS).unref();
    });
    this.logger.log(`forked a worker (pid ${child.pid}) for the local queue`);
  }

  /** The channel once the worker said it is up; NO_WORKER when none comes up in time. */
  private async whenReady(): Promise<IpcChannel> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new NoWorkerError(`the worker process serve forked did not start within ${READY_TIMEOUT_MS / 1000} s; see its log`)), READY_TIMEOUT_MS);
    });
    try {
      return await Promise.race([this.ready!, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
}
