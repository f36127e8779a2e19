import { BullModule, Processor, WorkerHost } from '@nestjs/bullmq';
import { DynamicModule, Module, Provider, Type } from '@nestjs/common';
import { Job as BullJob } from 'bullmq';
import { CommonModule } from '../common/common.module';
import { ShutdownSignal } from '../common/shutdown-signal';
import { AppConfig, QueueConfig } from '../config/app-config';
import { BullMqJobQueue, redisOptions, TASK_QUEUE } from './bullmq.job-queue';
import { ComputeCalls } from './compute-calls';
import { WorkerSpawner } from './forked-worker';
import { IpcChannel, PARENT_CHANNEL } from './ipc-channel';
import { JobQueue } from './job-queue';
import { LocalJobQueue } from './local.job-queue';
import { ParentJobQueue } from './parent.job-queue';

export const QUEUE_OPTIONS = Symbol('QueueOptions');

export interface QueueOptions {
  /** Whether this process takes tasks off the queue (a worker; `serve --no-worker` does not). The local queue always runs its tasks in-process. */
  worker: boolean;
  /** On the local queue: start this worker process and hand it every task and call (`serve` on the embedded default). */
  forkWorker?: WorkerSpawner;
}

/**
 * The JobQueue for the configured queue: BullMQ (through @nestjs/bullmq) when `queue.url` names
 * a Redis, the in-process LocalJobQueue otherwise. A process that runs tasks on BullMQ gets a
 * worker host; one that only submits gets none, so it opens no blocking connection. Global:
 * every feature runs its compute through the same queue (ComputeCalls).
 */
@Module({})
export class QueueModule {
  static register(config: AppConfig, options: QueueOptions): DynamicModule {
    if (config.queue.url === 'parent') {
      // A worker `serve` forked: its queue is the server's, over the IPC channel it was started with.
      return {
        module: QueueModule,
        global: true,
        imports: [CommonModule],
        providers: [
          { provide: PARENT_CHANNEL, useFactory: () => new IpcChannel(process) },
          { provide: JobQueue, inject: [PARENT_CHANNEL, ShutdownSignal], useFactory: (channel: IpcChannel, shutdown: ShutdownSignal) => new ParentJobQueue(channel, shutdown) },
          { provide: QUEUE_OPTIONS, useValue: options },
          ComputeCalls,
        ],
        exports: [JobQueue, QUEUE_OPTIONS, ComputeCalls, PARENT_CHANNEL],
      };
    }
    if (config.queue.url === 'local') {
      return {
        module: QueueModule,
        global: true,
        imports: [CommonModule],
        providers: [
          { provide: JobQueue, inject: [ShutdownSignal], useFactory: (shutdown: ShutdownSignal) => new LocalJobQueue(shutdown, config.queue.attempts) },
          { provide: QUEUE_OPTIONS, useValue: options },
          ComputeCalls,
        ],
        exports: [JobQueue, QUEUE_OPTIONS, ComputeCalls],
      };
    }
    const connection = redisOptions(config.queue.url);
    const prefix = `featurelake:${config.project}:bull`;
    const providers: Provider[] = [
      {
        provide: BullMqJobQueue,
        inject: [`BullQueue_${TASK_QUEUE}`, `BullFlowProducer_${TASK_QUEUE}`, ShutdownSignal],
        useFactory: (queue, flows, shutdown: ShutdownSignal) => new BullMqJobQueue(queue, flows, config.queue, config.project, shutdown),
      },
      { provide: JobQueue, useExisting: BullMqJobQueue },
      { provide: QUEUE_OPTIONS, useValue: options },
      ComputeCalls,
    ];
    if (options.worker) providers.push(workerHost(config.queue, connection));
    return {
      module: QueueModule,
      global: true,
      imports: [
        CommonModule,
        BullModule.forRoot({ connection, prefix }),
        // Submission checks Redis first on a connection without an offline queue (BullMqJobQueue.ping), so a
        // request gets 503 QUEUE_UNAVAILABLE at once rather than waiting; BullMQ's own connections keep theirs.
        BullModule.registerQueue({ name: TASK_QUEUE, prefix }),
        BullModule.registerFlowProducer({ name: TASK_QUEUE }),
      ],
      providers,
      exports: [JobQueue, QUEUE_OPTIONS, ComputeCalls],
    };
  }
}

/**
 * The worker host for this config. Its class is made here because BullMQ reads the lock
 * settings when the Worker is built (from @Processor's options), and they come from config.
 * It starts only when a handler is attached (JobQueue.consume), not at boot.
 */
function workerHost(queue: QueueConfig, connection: ReturnType<typeof redisOptions>): Type<unknown> {
  @Processor(TASK_QUEUE, {
    autorun: false,
    concurrency: queue.concurrency,
    connection: { ...connection, maxRetriesPerRequest: null },
    lockDuration: queue.lockSeconds * 1000,
    stalledInterval: Math.max(1000, (queue.lockSeconds * 1000) / 2),
    // A task whose worker died runs again; one that kills its worker twice more is given up.
    maxStalledCount: 2,
  })
  class TaskWorkerHost extends WorkerHost {
    constructor(private readonly tasks: BullMqJobQueue) {
      super();
      tasks.attachWorker(() => this.worker);
    }

    process(job: BullJob): Promise<unknown> {
      return this.tasks.process(job);
    }
  }
  Reflect.defineMetadata('design:paramtypes', [BullMqJobQueue], TaskWorkerHost);
  return TaskWorkerHost;
}
