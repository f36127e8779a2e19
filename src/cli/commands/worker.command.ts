import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Command } from 'commander';
import Redis from 'ioredis';
import { AppModule } from '../../app.module';
import { ConfigInvalidError, QueueUnavailableError } from '../../common/errors';
import { createServerLogger, PinoNestLogger } from '../../common/logging';
import { AppConfig } from '../../config/app-config';
import { displayRedisUrl, redisOptions } from '../../queue/bullmq.job-queue';
import { cliConfig, GlobalOptions } from '../context';

/** How long a worker waits for Redis to answer at start before it gives up (exit 1). */
const CONNECT_TIMEOUT_MS = 3000;

export function workerCommand(program: Command, globals: () => GlobalOptions): void {
  program
    .command('worker')
    .description('run compute: take materialization tasks off the job queue (BullMQ on Redis) until stopped')
    .option('--concurrency <n>', 'tasks run at once (default: queue.concurrency, 2)')
    .action(async (options: { concurrency?: string }) => {
      const config = withConcurrency(cliConfig(globals()), options.concurrency);
      if (config.queue.url === 'local') {
        throw new ConfigInvalidError('a worker takes its tasks from a Redis queue: set queue.url (or FEATURELAKE_QUEUE_URL, or use online.type: redis); with the local queue, `serve` and the CLI run jobs themselves');
      }
      await reachable(config.queue.url);
      const log = createServerLogger(config.logLevel);
      const app = await NestFactory.createApplicationContext(AppModule.register(config, { worker: true }), { logger: new PinoNestLogger(log) });
      app.enableShutdownHooks();
      new Logger('Worker').log(`featurelake worker for project ${config.project}: ${config.queue.concurrency} task(s) at a time from ${displayRedisUrl(config.queue.url)}`);
    });
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
