import { Logger } from '@nestjs/common';
import { ChildProcess, spawn } from 'node:child_process';
import { availableParallelism, setPriority } from 'node:os';
import { Command } from 'commander';
import { claimServerFile, removeServerFile, updateServerFile } from '../../common/server-file';
import { AppConfig } from '../../config/app-config';
import { createHttpApp } from '../../http-app';
import { cliConfig, GlobalOptions } from '../context';
import { PARENT_ENV } from './worker.command';

/** The forked worker's OS priority: below the server's, so that compute yields the CPU to serving. */
const WORKER_NICENESS = 10;

export function serveCommand(program: Command, globals: () => GlobalOptions): void {
  program
    .command('serve')
    .description('run the HTTP server (Feast-compatible feature server plus the featurelake API) and fork a worker for its compute at a lower priority')
    .option('--port <port>', 'port to listen on', '6566')
    .option('--host <host>', 'address to bind', '127.0.0.1')
    .option('--no-worker', 'fork no worker: with a Redis queue, `featurelake worker` processes run apart (production, several machines); with the local queue, compute runs in the server process')
    .action(async (options: { port: string; host: string; worker: boolean }) => {
      const config = cliConfig(globals());
      const startedAt = new Date().toISOString();
      // Before anything opens a file: a second server on this state folder stops here, naming the first.
      claimServerFile(config.stateDir, { pid: process.pid, url: null, startedAt });
      // Nest's shutdown hooks close the app on SIGINT/SIGTERM and then re-raise the signal, so
      // 'exit' handlers do not run: remove the address file before they do.
      const forget = () => removeServerFile(config.stateDir, process.pid);
      process.on('exit', forget);
      for (const signal of ['SIGINT', 'SIGTERM'] as const) process.prependListener(signal, forget);
      const redisQueue = config.queue.url !== 'local';
      // With a Redis queue the server takes no tasks itself: its own worker process (or other machines') do.
      // With the local queue it forks one and hands it every task and call over IPC (--no-worker: runs them itself).
      const spawn = () => spawnWorker(globals(), config, !redisQueue);
      // The maintenance schedule runs where compute runs: in the worker processes, or here when there are none.
      const app = await createHttpApp(config, { worker: !redisQueue, forkWorker: !redisQueue && options.worker ? spawn : undefined, scheduled: !redisQueue && !options.worker });
      if (redisQueue && options.worker) keepWorker(spawn, config);
      await app.listen(Number(options.port), options.host);
      const url = (await app.getUrl()).replace('[::1]', 'localhost');
      updateServerFile(config.stateDir, { pid: process.pid, url, startedAt });
      // Through the app's logger: the server's stdout is JSON lines only.
      new Logger('Server').log(`featurelake serving project ${config.project} at ${url} (OpenAPI: ${url}/docs)`);
    });
}

/**
 * `featurelake worker` as a child process at a lower OS priority: its own process, so its DuckDB
 * threads and row loops never hold the server's event loop, and the OS scheduler favours the
 * server when both want the CPU. Unless configured, its DuckDB leaves one core to the server
 * (threads = cores − 1). `ipc`: the local queue's worker, which reaches the server over the IPC
 * channel (structured clone: bigints and NaN cross intact).
 */
function spawnWorker(globals: GlobalOptions, config: AppConfig, ipc: boolean): ChildProcess {
  const env: NodeJS.ProcessEnv = { ...process.env, FEATURELAKE_DUCKDB_THREADS: process.env.FEATURELAKE_DUCKDB_THREADS ?? String(config.duckdb.threads ?? Math.max(1, availableParallelism() - 1)) };
  if (ipc) env[PARENT_ENV] = 'ipc';
  const child = spawn(process.execPath, [process.argv[1], '--repo', globals.repo, 'worker'], {
    // A channel either way: a worker knows its server is gone (a kill -9 included) when it closes, and exits.
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    serialization: 'advanced',
    env,
  });
  if (child.pid !== undefined) setPriority(child.pid, WORKER_NICENESS);
  return child;
}

/** The Redis queue's worker beside the server: restarted if it dies, stopped with the server. */
function keepWorker(spawnOne: () => ChildProcess, config: AppConfig): void {
  const logger = new Logger('Server');
  let child: ChildProcess | undefined;
  let stopping = false;
  const start = () => {
    child = spawnOne();
    child.on('exit', (code, signal) => {
      if (stopping) return;
      logger.warn(`the worker process exited (${signal ?? code}); starting another in 1 s`);
      setTimeout(start, 1000).unref();
    });
  };
  const stop = () => {
    stopping = true;
    child?.kill('SIGTERM');
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.prependListener(signal, stop);
  process.on('exit', stop);
  start();
  logger.log(`forked a worker (pid ${child?.pid}, niceness ${WORKER_NICENESS}) taking tasks from ${config.queue.url.replace(/\/\/[^@]*@/, '//')}`);
}
