#!/usr/bin/env node
'use strict';
/**
 * Scale-out: the same work on 1 worker and on 2 workers, each worker a separate
 * `featurelake worker` process with one DuckDB thread and one task at a time, taking tasks from
 * BullMQ on a private Redis; `serve --no-worker` submits. Per round and worker count:
 *  - a materialization: the view (`--rows` rows × 10 features, `online: false`) only goes to the
 *    lake's offline tables, so the figure is compute, not the online store's write rate; 16
 *    buckets in `--ranges` tasks; a window materialization of everything (a full recompute);
 *  - a training set of `--spine` entity rows (a lake dataset) saved with POST /training-sets:
 *    the join over the view's pinned dataset snapshot, in one part per worker (at most `--parts`);
 *  - the same entity rows' historical retrieval from the offline tables as Parquet
 *    (POST /get-historical-features), in one part per worker, each reading its buckets' files.
 * Rounds alternate 1 and 2 workers (the materializations first, then the joins, so that every
 * join round reads the same offline files); medians and the speed-ups.
 *
 * Usage: npm run build && node bench/scale-out.js [--rows 4000000] [--spine 1000000] [--rounds 3] [--ranges 16] [--parts 4]
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
const SPINE = option('spine', 1_000_000);
const PARTS = option('parts', 4);
const WORK = ['materialization', 'training set', 'retrieval'];

async function main() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'fl-bench-scale-'));
  const redis = await startRedis();
  let server;
  try {
    const repo = writeRepo(dir, redis.url);
    await writeRows(path.join(dir, 'events.parquet'), ROWS, path.join(dir, 'spine.parquet'), SPINE);
    featurelake(repo, {}, 'apply');
    featurelake(repo, {}, 'ingest', 'events', path.join(dir, 'events.parquet'));
    featurelake(repo, {}, 'ingest', 'spine', path.join(dir, 'spine.parquet'));
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const env = { ...process.env, NODE_NO_WARNINGS: '1', FEATURELAKE_LOG_LEVEL: 'warn', FEATURELAKE_DUCKDB_THREADS: '1' };
    server = spawn(process.execPath, [BIN, '--repo', repo, 'serve', '--port', String(port), '--no-worker'], { env, stdio: ['ignore', 'ignore', 'inherit'] });
    await waitForHealth(base);
    console.log(`machine: ${os.cpus().length} × ${os.cpus()[0].model}, Node ${process.version}`);
    console.log(`${ROWS.toLocaleString('en-US')} rows × 10 features into the lake's offline tables (online: false) in ${RANGES} tasks; joins of ${SPINE.toLocaleString('en-US')} entity rows in ${PARTS} parts; workers: 1 DuckDB thread, 1 task at a time\n`);
    const times = Object.fromEntries(WORK.map((w) => [w, { 1: [], 2: [] }]));
    const workersFor = async (n) => {
      const workers = Array.from({ length: n }, () => spawn(process.execPath, [BIN, '--repo', repo, 'worker', '--concurrency', '1'], { env, stdio: ['ignore', 'ignore', 'inherit'] }));
      await sleep(2500); // the workers connect
      return workers;
    };
    for (let round = 0; round < ROUNDS; round++) {
      for (const n of [1, 2]) {
        const workers = await workersFor(n);
        const seconds = await materialize(base);
        times.materialization[n].push(seconds);
        await Promise.all(workers.map(stop));
        console.log(`round ${round + 1}: ${n} worker${n > 1 ? 's' : ''}: materialization ${seconds.toFixed(2)} s (${Math.round(ROWS / seconds).toLocaleString('en-US')} rows/s)`);
      }
    }
    // The joins after every materialization: each round reads the same offline files.
    for (let round = 0; round < ROUNDS; round++) {
      for (const n of [1, 2]) {
        const workers = await workersFor(n);
        const seconds = [await trainingSet(base, `set_${round}_${n}`), await retrieval(base)];
        times['training set'][n].push(seconds[0]);
        times.retrieval[n].push(seconds[1]);
        await Promise.all(workers.map(stop));
        console.log(`round ${round + 1}: ${n} worker${n > 1 ? 's' : ''}: training set ${seconds[0].toFixed(2)} s, retrieval ${seconds[1].toFixed(2)} s`);
      }
    }
    console.log('');
    for (const w of WORK) {
      const one = median(times[w][1]);
      const two = median(times[w][2]);
      console.log(`median ${w}: 1 worker ${one.toFixed(2)} s | 2 workers ${two.toFixed(2)} s | speed-up ${(one / two).toFixed(2)}× (target ≥ 1.7×)`);
    }
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
    `project: scale\nlake:\n  uri: file://${dir}/lake\nstate_dir: ${dir}\noffline: { buckets: 16 }\nonline: { type: redis, url: "${redisUrl}" }\nqueue: { ranges_per_view: ${RANGES}, join_parts: ${PARTS} }\n`,
  );
  const features = Array.from({ length: 10 }, (_, i) => `      - { name: f${i}, type: float64 }`).join('\n');
  writeFileSync(
    path.join(repo, 'defs.yaml'),
    `entities:\n  - { name: user, join_keys: [user_id], value_type: int64 }\ndatasets:\n  - { name: events, timestamp_field: ts }\n  - { name: spine, timestamp_field: ts }\n` +
      `feature_views:\n  - name: wide\n    entities: [user]\n    source: events\n    online: false\n    features:\n${features}\n`,
  );
  return repo;
}

/** `rows` rows: a quarter as many users, four rows each, spread over a day; and `spineRows` entity rows of random users at random times that day. */
async function writeRows(file, rows, spineFile, spineRows) {
  const db = await DuckDBInstance.create(':memory:');
  const c = await db.connect();
  const features = Array.from({ length: 10 }, (_, i) => `random() * 100 AS f${i}`).join(', ');
  await c.run(`COPY (SELECT range // 4 AS user_id, TIMESTAMP '2026-01-01' + to_seconds(range % 86400) AS ts, ${features} FROM range(${rows})) TO '${file}' (FORMAT parquet, COMPRESSION zstd)`);
  await c.run(`COPY (SELECT (hash(range) % ${Math.max(1, rows / 4)})::BIGINT AS user_id, TIMESTAMP '2026-01-01' + to_seconds(hash(range, 1) % 86400) AS ts FROM range(${spineRows})) TO '${spineFile}' (FORMAT parquet)`);
  c.closeSync();
  db.closeSync();
}

/** One window materialization of everything; seconds from submission to the job's end. */
async function materialize(base) {
  const started = process.hrtime.bigint();
  await jobFinished(base, await submitMaterialize(base, ['wide']));
  return Number(process.hrtime.bigint() - started) / 1e9;
}

const FEATURES = Array.from({ length: 10 }, (_, i) => `wide:f${i}`);

/** A saved training set of the spine dataset; seconds until it is saved. */
async function trainingSet(base, name) {
  const started = process.hrtime.bigint();
  const response = await fetch(`${base}/training-sets`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name, features: FEATURES, entity_dataset: { name: 'spine' } }) });
  if (response.status !== 201) throw new Error(`saving the training set: ${response.status} ${await response.text()}`);
  const body = await response.json();
  if (body.row_count !== SPINE) throw new Error(`the training set has ${body.row_count} rows`);
  return Number(process.hrtime.bigint() - started) / 1e9;
}

/** The spine's point-in-time join from the offline tables as Parquet; seconds until the last byte. */
async function retrieval(base) {
  const started = process.hrtime.bigint();
  const response = await fetch(`${base}/get-historical-features?format=parquet`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ features: FEATURES, entity_dataset: { name: 'spine' } }) });
  if (response.status !== 200) throw new Error(`the retrieval: ${response.status} ${await response.text()}`);
  let bytes = 0;
  for await (const chunk of response.body) bytes += chunk.length;
  if (bytes === 0) throw new Error('the retrieval returned nothing');
  return Number(process.hrtime.bigint() - started) / 1e9;
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
