#!/usr/bin/env node
'use strict';
/**
 * Benchmark 2: materialization of 1M entities × 10 features from the lake into Redis, end to
 * end (`featurelake materialize-incremental`: lake Parquet → DuckDB offline table → Redis), in
 * rows/s, against a plain ioredis loop that reads the same rows from the same Parquet with
 * DuckDB and writes them with pipelined HSETs of 1,000 (up to 4 pipelines in flight).
 * Redis is flushed before every run; runs alternate; medians.
 *
 * Usage: npm run build && node bench/materialization.js [--entities 1000000] [--rounds 3]
 */
const { mkdtempSync, readdirSync, rmSync } = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const Redis = require('ioredis');
const { DuckDBInstance } = require('@duckdb/node-api');
const { startRedis, featurelake, stop } = require('./lib/processes');
const { writeRepo, writeEvents } = require('./lib/bench-repo');
const { median } = require('./lib/load');

const args = process.argv.slice(2);
const option = (name, fallback) => (args.includes(`--${name}`) ? Number(args[args.indexOf(`--${name}`) + 1]) : fallback);
const ENTITIES = option('entities', 1_000_000);
const ROUNDS = option('rounds', 3);

async function main() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'fl-bench-mat-'));
  const redis = await startRedis();
  const client = new Redis(redis.url);
  try {
    const repo = writeRepo(dir, { redisUrl: redis.url });
    await writeEvents(path.join(dir, 'events.parquet'), ENTITIES);
    featurelake(repo, {}, 'apply');
    featurelake(repo, {}, 'ingest', 'events', path.join(dir, 'events.parquet'));
    const lakeFile = path.join(dir, 'lake', 'datasets', 'events', 'data', readdirSync(path.join(dir, 'lake', 'datasets', 'events', 'data'))[0]);
    console.log(`machine: ${os.cpus().length} × ${os.cpus()[0].model}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`);
    console.log(`${ENTITIES.toLocaleString('en-US')} entities × 10 features, ${ROUNDS} alternating rounds, Redis flushed before each run\n`);
    const ours = [];
    const base = [];
    for (let round = 0; round < ROUNDS; round++) {
      await client.flushall();
      rmSync(path.join(dir, 'lake', 'views'), { recursive: true, force: true }); // a cold start: the offline table is rebuilt too
      ours.push(materialize(repo, dir));
      await client.flushall();
      base.push(await baseline(lakeFile, client));
      if ((await client.dbsize()) !== ENTITIES) throw new Error('the baseline did not write every entity');
      const r = ours[ours.length - 1];
      console.log(`round ${round + 1}: featurelake ${fmt(r.rowsPerSecond)} rows/s (job ${r.jobSeconds.toFixed(2)} s, command ${r.wallSeconds.toFixed(2)} s) | baseline ${fmt(base[round])} rows/s`);
    }
    const oursMedian = median(ours.map((r) => r.rowsPerSecond));
    const baseMedian = median(base);
    console.log(`\nmedian: featurelake ${fmt(oursMedian)} rows/s end to end | ioredis HSET loop ${fmt(baseMedian)} rows/s | ratio ${(oursMedian / baseMedian).toFixed(2)}×`);
  } finally {
    client.disconnect();
    await stop(redis.child);
    rmSync(dir, { recursive: true, force: true });
  }
}

/** featurelake: the real CLI; rows/s over the job's own duration (process start-up excluded, reported apart). */
function materialize(repo, dir) {
  const started = process.hrtime.bigint();
  const out = featurelake(repo, {}, 'materialize-incremental', new Date().toISOString(), '--views', 'v1');
  const wallSeconds = Number(process.hrtime.bigint() - started) / 1e9;
  const jobSeconds = Number(/succeeded in ([\d.]+) s/.exec(out)[1]);
  const online = Number(/v1\s+done\s+\S+\s+\S+\s+\S+\s+[\d,]+\s+[\d,]+\s+([\d,]+)/.exec(out)[1].replace(/,/g, ''));
  if (online !== ENTITIES) throw new Error(`featurelake wrote ${online} online rows, expected ${ENTITIES}:\n${out}`);
  return { rowsPerSecond: ENTITIES / jobSeconds, jobSeconds, wallSeconds };
}

/** The plain loop: DuckDB streams the rows, ioredis writes HSETs in pipelines of 1,000, 4 in flight. */
async function baseline(file, client) {
  const started = process.hrtime.bigint();
  const db = await DuckDBInstance.create(':memory:');
  const c = await db.connect();
  const result = await c.stream(`SELECT user_id, ${Array.from({ length: 10 }, (_, i) => `f${i}`).join(', ')} FROM read_parquet('${file}')`);
  const inFlight = new Set();
  let pipeline = client.pipeline();
  let queued = 0;
  for (;;) {
    const chunk = await result.fetchChunk();
    if (!chunk || chunk.rowCount === 0) break;
    const columns = chunk.getColumns();
    for (let row = 0; row < chunk.rowCount; row++) {
      const fields = [];
      for (let f = 0; f < 10; f++) fields.push(`f${f}`, String(columns[f + 1][row]));
      pipeline.hset(`user:${columns[0][row]}`, ...fields);
      if (++queued === 1000) {
        const sent = pipeline.exec().then(() => inFlight.delete(sent));
        inFlight.add(sent);
        if (inFlight.size >= 4) await Promise.race(inFlight);
        pipeline = client.pipeline();
        queued = 0;
      }
    }
  }
  if (queued > 0) inFlight.add(pipeline.exec());
  await Promise.all(inFlight);
  c.closeSync();
  db.closeSync();
  return ENTITIES / (Number(process.hrtime.bigint() - started) / 1e9);
}

function fmt(n) {
  return Math.round(n).toLocaleString('en-US').padStart(9);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
