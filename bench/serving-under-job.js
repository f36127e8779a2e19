#!/usr/bin/env node
'use strict';
/**
 * Serving under a job: online reads of 1 entity × 10 features at a fixed rate (hey, pinned to
 * core 1) against `featurelake serve` on Redis, with no job running (the baseline, same run)
 * and while a materialization of `--entities` rows of another view runs on the worker process
 * `serve` forks at a lower OS priority (BullMQ on the same Redis). Rounds alternate; each
 * prints p50/p99 of both and the p99 ratio; then the medians. The job is a window
 * materialization (a full recompute every round). `--embedded`: the same on the embedded
 * defaults (no Redis): the worker `serve` forks takes its tasks over IPC and hands its online
 * writes to the server, which holds the embedded store's DuckDB file.
 *
 * Usage: npm run build && node bench/serving-under-job.js [--embedded] [--entities 1000000] [--rate 300] [--seconds 10] [--rounds 3]
 */
const { mkdtempSync, rmSync } = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawn } = require('node:child_process');
const { BIN, startRedis, featurelake, freePort, stop, sleep } = require('./lib/processes');
const { writeRepo, writeEvents } = require('./lib/bench-repo');
const { fixedRate, median } = require('./lib/load');
const { waitForHealth, submitMaterialize, jobState, jobFinished } = require('./lib/jobs');

const args = process.argv.slice(2);
const option = (name, fallback) => (args.includes(`--${name}`) ? Number(args[args.indexOf(`--${name}`) + 1]) : fallback);
const ENTITIES = option('entities', 1_000_000);
const RATE = option('rate', 300);
const SECONDS = option('seconds', 10);
const ROUNDS = option('rounds', 3);
const EMBEDDED = args.includes('--embedded');

const READ = { features: Array.from({ length: 10 }, (_, i) => `v2:f${10 + i}`), entities: { user_id: [4242] } };

async function main() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'fl-bench-under-job-'));
  const redis = EMBEDDED ? null : await startRedis();
  let server;
  try {
    const repo = writeRepo(dir, { redisUrl: redis?.url });
    await writeEvents(path.join(dir, 'events.parquet'), ENTITIES);
    featurelake(repo, {}, 'apply');
    featurelake(repo, {}, 'ingest', 'events', path.join(dir, 'events.parquet'));
    featurelake(repo, {}, 'materialize-incremental', new Date().toISOString(), '--views', 'v2'); // what the reads read
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    // Not pinned: the server and its forked worker (niceness 10) share the machine as they would in use.
    server = spawn(process.execPath, [BIN, '--repo', repo, 'serve', '--port', String(port)], { env: { ...process.env, NODE_NO_WARNINGS: '1', FEATURELAKE_LOG_LEVEL: 'warn' }, stdio: ['ignore', 'ignore', 'inherit'] });
    await waitForHealth(base);
    await sleep(2000); // the worker process starts
    console.log(`machine: ${os.cpus().length} × ${os.cpus()[0].model}, Node ${process.version}`);
    console.log(`reads: 1 entity × 10 features at ${RATE} req/s for ${SECONDS} s; job: materialize ${ENTITIES.toLocaleString('en-US')} rows × 10 features of another view on the forked worker (${EMBEDDED ? 'embedded store, local queue over IPC' : 'Redis, BullMQ'})\n`);
    fixedRate(`${base}/get-online-features`, READ, { rate: RATE, seconds: 3 }); // warm-up
    const alone = [];
    const during = [];
    for (let round = 0; round < ROUNDS; round++) {
      alone.push(fixedRate(`${base}/get-online-features`, READ, { rate: RATE, seconds: SECONDS }));
      const job = await submitMaterialize(base, ['v1']);
      for (let i = 0; i < 600 && (await jobState(base, job)) === 'queued'; i++) await sleep(50);
      const measured = fixedRate(`${base}/get-online-features`, READ, { rate: RATE, seconds: SECONDS });
      const state = await jobState(base, job);
      if (state !== 'running') throw new Error(`the job was ${state} before the reads ended: raise --entities or lower --seconds`);
      during.push(measured);
      await jobFinished(base, job);
      const a = alone[round];
      console.log(`round ${round + 1}: no job p50 ${a.p50.toFixed(2)} ms p99 ${a.p99.toFixed(2)} ms (${a.errors} errors) | job running p50 ${measured.p50.toFixed(2)} ms p99 ${measured.p99.toFixed(2)} ms (${measured.errors} errors) | p99 ratio ${(measured.p99 / a.p99).toFixed(2)}×`);
    }
    const p99Alone = median(alone.map((r) => r.p99));
    const p99During = median(during.map((r) => r.p99));
    const errors = [...alone, ...during].reduce((n, r) => n + r.errors, 0);
    console.log(`\nmedian p50: ${median(alone.map((r) => r.p50)).toFixed(2)} ms alone, ${median(during.map((r) => r.p50)).toFixed(2)} ms during the job`);
    console.log(`median p99: ${p99Alone.toFixed(2)} ms alone, ${p99During.toFixed(2)} ms during the job | ratio ${(p99During / p99Alone).toFixed(2)}× (target ≤ 2×) | errors ${errors}`);
  } finally {
    await stop(server);
    if (redis) await stop(redis.child);
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
