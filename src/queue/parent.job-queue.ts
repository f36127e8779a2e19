import { OnApplicationShutdown } from '@nestjs/common';
import { ErrorRecord, fromErrorRecord, ShuttingDownError } from '../common/errors';
import { ShutdownSignal } from '../common/shutdown-signal';
import { IpcChannel } from './ipc-channel';
import { CallHandler, CallOptions, JobQueue, pollCancel, runPartsHere, Task, TaskHandler, TaskOutcome } from './job-queue';

/** How often a task polls its job's cancel flag across the channel. */
const CANCEL_POLL_MS = 500;

/** A task as the server hands it to its forked worker. */
export interface ForkedTask {
  task: Task;
  attempt: number;
  finalAttempt: boolean;
  outcomes: TaskOutcome[];
}

/**
 * The queue of a worker that `serve` forked on the embedded default: the server's local queue,
 * across the IPC channel. The server decides what runs when (its queue keeps the tasks, the
 * retries, the locks and the progress); this process runs the tasks and calls it is handed, and
 * its other queue operations are the server's, asked for over the channel.
 */
export class ParentJobQueue extends JobQueue implements OnApplicationShutdown {
  readonly mode = 'local';
  readonly location = 'the server that forked this worker';
  readonly callsLeaveProcess = false;
  override readonly keeperPid = process.ppid;
  private readonly calls = new Map<string, AbortController>();
  private callHandler?: CallHandler;

  constructor(
    private readonly channel: IpcChannel,
    private readonly shutdown: ShutdownSignal,
  ) {
    super();
  }

  async consume(handler: TaskHandler): Promise<void> {
    this.channel.handle('task', (forked: ForkedTask) =>
      handler.run(forked.task, { attempt: forked.attempt, finalAttempt: forked.finalAttempt, signal: this.shutdown.signal, outcomes: async () => forked.outcomes }),
    );
  }

  readonly spreadsParts = false;

  async workers(): Promise<number> {
    return 1;
  }

  /** The only worker of its server runs the parts of its own calls itself. */
  async runParts(name: string, inputs: unknown[], options: CallOptions): Promise<unknown[]> {
    return runPartsHere(this.callHandler, name, inputs, options.signal);
  }

  handleCalls(handler: CallHandler): void {
    this.callHandler = handler;
    this.channel.handle('call', async (id: string, name: string, input: unknown) => {
      const controller = new AbortController();
      const onShutdown = () => controller.abort(this.shutdown.signal.reason);
      this.shutdown.signal.addEventListener('abort', onShutdown, { once: true });
      this.calls.set(id, controller);
      try {
        return await handler(name, input, { signal: controller.signal, remote: true });
      } finally {
        this.calls.delete(id);
        this.shutdown.signal.removeEventListener('abort', onShutdown);
      }
    });
    // The reason crosses as its record (a structured clone keeps no error class): the call ends with that code.
    this.channel.handle('cancel-call', async (id: string, reason: ErrorRecord) => void this.calls.get(id)?.abort(fromErrorRecord(reason)));
  }

  onApplicationShutdown(): void {
    this.channel.close(new ShuttingDownError('the worker is shutting down'));
  }

  call(_name: string, _input: unknown, _options: CallOptions): Promise<unknown> {
    throw new Error('a forked worker runs calls; it does not make them');
  }

  lockViews(): Promise<void> {
    throw new Error('a forked worker runs tasks; views are locked by the server that submits the job');
  }

  submit(jobId: string): Promise<void> {
    return this.ask('submit', jobId);
  }

  fanOut(tasks: Task[], then: Task): Promise<void> {
    return this.ask('fanOut', tasks, then);
  }

  reportProgress(jobId: string, taskKey: string, fraction: number): Promise<void> {
    return this.ask('reportProgress', jobId, taskKey, fraction);
  }

  progress(jobId: string): Promise<Map<string, number>> {
    return this.ask('progress', jobId);
  }

  requestCancel(jobId: string): Promise<void> {
    return this.ask('requestCancel', jobId);
  }

  isCancelled(jobId: string): Promise<boolean> {
    return this.ask('isCancelled', jobId);
  }

  onCancel(jobId: string, listener: () => void): () => void {
    return pollCancel(() => this.isCancelled(jobId), listener, CANCEL_POLL_MS);
  }

  unlockViews(jobId: string, views: string[]): Promise<void> {
    return this.ask('unlockViews', jobId, views);
  }

  announceFinished(jobId: string): Promise<void> {
    return this.ask('announceFinished', jobId);
  }

  async whenFinished(): Promise<void> {
    throw new Error('a forked worker does not wait for jobs');
  }

  holdsTasks(jobId: string): Promise<boolean> {
    return this.ask('holdsTasks', jobId);
  }

  async abandonedTask(): Promise<TaskOutcome | null> {
    return null;
  }

  ping(): Promise<void> {
    return this.ask('ping');
  }

  private ask<T>(method: string, ...args: unknown[]): Promise<T> {
    return this.channel.request<T>('queue', method, ...args);
  }
}
