#!/usr/bin/env node
'use strict';
/**
 * Scale-out: the same materialization on 1 worker and on 2 workers, each worker a separate
 * `featurelake worker` process with one DuckDB thread and one task at a time, taking tasks from
 * BullMQ on a private Redis; `serve --no-worker` submits. The view (`--rows` rows × 10 features,
 * `online: false`) only goes to the lake's offline tables, so the figure is compute, not the
 * online store's write rate. 16 buckets in `--ranges` tasks; each round is a window materialization of
 * everything (a full recompute). Rounds alternate 1 and 2 workers; medians and the speed-up.
 *
 * Usage: npm run build && node bench/scale-out.js [--rows 4000000] [--rounds 3] [--ranges 16]
 */
const { mkdirSync, mkdtempSync, rmSync, writeFileSync } = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawn } = require('node:child_process');
const { DuckDBInstance } = require('@duckdb/node-api');
const { BIN, startRedis, featurelake, freePort, stop, sleep } = require('./lib/processes');
const { median } = require('./lib/load');
const { waitForHealth, submitMaterialize, jobFinished } = require('./lib/jobs');

const args = process.argv.slice(2);
const option = (name, fallback) => (args.includes(`--${name}`) ? Number(args[args.indexOf(`--${name}`) + 1]) : fallback);
const ROWS = option('rows', 4_000_000);
const ROUNDS = option('rounds', 3);
const RANGES = option('ranges', 16);

async function main() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'fl-bench-scale-'));
  const redis = await startRedis();
  let server;
  try {
    const repo = writeRepo(dir, redis.url);
    await writeRows(path.join(dir, 'events.parquet'), ROWS);
    featurelake(repo, {}, 'apply');
    featurelake(repo, {}, 'ingest', 'events', path.join(dir, 'events.parquet'));
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const env = { ...process.env, NODE_NO_WARNINGS: '1', FEATURELAKE_LOG_LEVEL: 'warn', FEATURELAKE_DUCKDB_THREADS: '1' };
    server = spawn(process.execPath, [BIN, '--repo', repo, 'serve', '--port', String(port), '--no-worker'], { env, stdio: ['ignore', 'ignore', 'inherit'] });
    await waitForHealth(base);
    console.log(`machine: ${os.cpus().length} × ${os.cpus()[0].model}, Node ${process.version}`);
    console.log(`${ROWS.toLocaleString('en-US')} rows × 10 features into the lake's offline tables (online: false) in ${RANGES} tasks; workers: 1 DuckDB thread, 1 task at a time\n`);
    const times = { 1: [], 2: [] };
    for (let round = 0; round < ROUNDS; round++) {
      for (const n of [1, 2]) {
        const workers = Array.from({ length: n }, () => spawn(process.execPath, [BIN, '--repo', repo, 'worker', '--concurrency', '1'], { env, stdio: ['ignore', 'ignore', 'inherit'] }));
        await sleep(2500); // the workers connect
        const seconds = await materialize(base);
        times[n].push(seconds);
        await Promise.all(workers.map(stop));
        console.log(`round ${round + 1}: ${n} worker${n > 1 ? 's' : ''} ${seconds.toFixed(2)} s (${Math.round(ROWS / seconds).toLocaleString('en-US')} rows/s)`);
      }
    }
    const one = median(times[1]);
    const two = median(times[2]);
    console.log(`\nmedian: 1 worker ${one.toFixed(2)} s | 2 workers ${two.toFixed(2)} s | speed-up ${(one / two).toFixed(2)}× (target ≥ 1.7×)`);
  } finally {
    await stop(server);
    await stop(redis.child);
    rmSync(dir, { recursive: true, force: true });
  }
}

function writeRepo(dir, redisUrl) {
  const repo = path.join(dir, 'repo');
  mkdirSync(repo);
  writeFileSync(
    path.join(repo, 'featurelake.yaml'),
    `project: scale\nlake:\n  uri: file://${dir}/lake\nstate_dir: ${dir}\noffline: { buckets: 16 }\nonline: { type: redis, url: "${redisUrl}" }\nqueue: { ranges_per_view: ${RANGES} }\n`,
  );
  const features = Array.from({ length: 10 }, (_, i) => `      - { name: f${i}, type: float64 }`).join('\n');
  writeFileSync(
    path.join(repo, 'defs.yaml'),
    `entities:\n  - { name: user, join_keys: [user_id], value_type: int64 }\ndatasets:\n  - { name: events, timestamp_field: ts }\n` +
      `feature_views:\n  - name: wide\n    entities: [user]\n    source: events\n    online: false\n    features:\n${features}\n`,
  );
  return repo;
}

/** `rows` rows: a quarter as many users, four rows each, spread over a day. */
async function writeRows(file, rows) {
  const db = await DuckDBInstance.create(':memory:');
  const c = await db.connect();
  const features = Array.from({ length: 10 }, (_, i) => `random() * 100 AS f${i}`).join(', ');
  await c.run(`COPY (SELECT range // 4 AS user_id, TIMESTAMP '2026-01-01' + to_seconds(range % 86400) AS ts, ${features} FROM range(${rows})) TO '${file}' (FORMAT parquet, COMPRESSION zstd)`);
  c.closeSync();
  db.closeSync();
}

/** One window materialization of everything; seconds from submission to the job's end. */
async function materialize(base) {
  const started = process.hrtime.bigint();
  await jobFinished(base, await submitMaterialize(base, ['wide']));
  return Number(process.hrtime.bigint() - started) / 1e9;
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
