import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Command } from 'commander';
import Redis from 'ioredis';
import { AppModule } from '../../app.module';
import { ConfigInvalidError, QueueUnavailableError, ShuttingDownError } from '../../common/errors';
import { createServerLogger, PinoNestLogger } from '../../common/logging';
import { AppConfig } from '../../config/app-config';
import { displayRedisUrl, redisOptions } from '../../queue/bullmq.job-queue';
import { IpcChannel, PARENT_CHANNEL } from '../../queue/ipc-channel';
import { cliConfig, GlobalOptions } from '../context';

/** How long a worker waits for Redis to answer at start before it gives up (exit 1). */
const CONNECT_TIMEOUT_MS = 3000;

/** Set by `serve` in the environment of the worker it forks for the local queue (with an IPC channel). */
export const PARENT_ENV = 'FEATURELAKE_WORKER_PARENT';

/** A forked worker whose server is gone stops its tasks and exits; one that cannot within this is ended. */
const ORPHAN_EXIT_MS = 10_000;

export function workerCommand(program: Command, globals: () => GlobalOptions): void {
  program
    .command('worker')
    .description('run compute: take materialization tasks off the job queue (BullMQ on Redis) until stopped')
    .option('--concurrency <n>', 'tasks run at once (default: queue.concurrency, 2)')
    .action(async (options: { concurrency?: string }) => {
      const config = withConcurrency(cliConfig(globals()), options.concurrency);
      // Forked by serve: it goes when the server goes, even one killed while this one still starts.
      const forked = process.connected ? exitWithParent() : null;
      if (process.env[PARENT_ENV] === 'ipc' && forked) return forkedWorker(config, forked);
      if (config.queue.url === 'local') {
        throw new ConfigInvalidError('a worker takes its tasks from a Redis queue: set queue.url (or FEATURELAKE_QUEUE_URL, or use online.type: redis); with the local queue, `serve` and the CLI run jobs themselves');
      }
      await reachable(config.queue.url);
      const log = createServerLogger(config.logLevel);
      const app = await NestFactory.createApplicationContext(AppModule.register(config, { worker: true, scheduled: true }), { logger: new PinoNestLogger(log) });
      app.enableShutdownHooks();
      forked?.closing(() => app.close());
      new Logger('Worker').log(`featurelake worker for project ${config.project}: ${config.queue.concurrency} task(s) at a time from ${displayRedisUrl(config.queue.url)}`);
    });
}

/**
 * The worker `serve` forked on the local queue: the server's queue and embedded online store are
 * reached over the IPC channel (queue.url `parent`). It tells the server when it is up, and goes
 * when the server does (the channel closes).
 */
async function forkedWorker(loaded: AppConfig, forked: ParentWatch): Promise<void> {
  const config = AppConfig.of({ ...loaded, queue: { ...loaded.queue, url: 'parent' } });
  const log = createServerLogger(config.logLevel);
  const app = await NestFactory.createApplicationContext(AppModule.register(config, { worker: true, scheduled: true }), { logger: new PinoNestLogger(log) });
  app.enableShutdownHooks();
  const channel = app.get<IpcChannel>(PARENT_CHANNEL);
  forked.closing(async () => {
    channel.close(new ShuttingDownError('the server that forked this worker is gone'));
    await app.close();
  });
  await channel.request('ready');
  new Logger('Worker').log(`featurelake worker for project ${config.project}, forked by the server (pid ${process.ppid}): its tasks and calls over IPC`);
}

interface ParentWatch {
  /** What stops this process when the server is gone (until set: nothing to stop). */
  closing(close: () => Promise<void>): void;
}

/**
 * When the channel to the server that forked this process closes: stop (`closing`), then exit,
 * within ORPHAN_EXIT_MS at most. A server already gone once `closing` is set: stop at once.
 */
function exitWithParent(): ParentWatch {
  let close: () => Promise<void> = async () => undefined;
  let gone = false;
  const exit = () => {
    setTimeout(() => process.exit(1), ORPHAN_EXIT_MS).unref();
    void close().finally(() => process.exit(0));
  };
  process.once('disconnect', () => {
    gone = true;
    exit();
  });
  return {
    closing(next) {
      close = next;
      if (gone) exit();
    },
  };
}

function withConcurrency(config: AppConfig, raw?: string): AppConfig {
  if (raw === undefined) return config;
  const n = Number(raw);
  if (!(Number.isInteger(n) && n >= 1 && n <= 64)) throw new ConfigInvalidError(`--concurrency: must be a whole number from 1 to 64, got ${JSON.stringify(raw)}`);
  return AppConfig.of({ ...config, queue: { ...config.queue, concurrency: n } });
}

/** A worker whose Redis is wrong or down says so, naming it, instead of waiting forever. */
async function reachable(url: string): Promise<void> {
  const client = new Redis({ ...redisOptions(url), lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0, connectTimeout: CONNECT_TIMEOUT_MS, retryStrategy: () => null });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.ping();
  } catch (error) {
    throw new QueueUnavailableError(`cannot reach the job queue at ${displayRedisUrl(url)}: ${error instanceof Error ? error.message : String(error)}`, { queue: displayRedisUrl(url) });
  } finally {
    client.disconnect();
  }
}
