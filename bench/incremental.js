#!/usr/bin/env node
'use strict';
/**
 * Incremental cost against lake size: `--new` new rows for random users materialized
 * incrementally (`featurelake materialize-incremental NOW --views v1`; online: the embedded store,
 * or with `--redis` a private redis-server)
 * on a lake of `--small` rows and on one of `--large` rows. Rounds alternate the two lakes; each
 * round ingests a fresh batch, then times the job (its own duration, from the CLI's output).
 * Cost that follows new data shows as a ratio near 1.
 *
 * Usage: npm run build && node bench/incremental.js [--small 1000000] [--large 6000000] [--new 100000] [--rounds 3] [--redis]
 */
const { mkdirSync, mkdtempSync, rmSync } = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { DuckDBInstance } = require('@duckdb/node-api');
const { featurelake, startRedis, stop } = require('./lib/processes');
const { writeRepo, writeEvents, VIEWS, FEATURES_PER_VIEW } = require('./lib/bench-repo');
const { median } = require('./lib/load');

const args = process.argv.slice(2);
const option = (name, fallback) => (args.includes(`--${name}`) ? Number(args[args.indexOf(`--${name}`) + 1]) : fallback);
const SMALL = option('small', 1_000_000);
const LARGE = option('large', 6_000_000);
const NEW = option('new', 100_000);
const ROUNDS = option('rounds', 3);
const REDIS = args.includes('--redis');

async function main() {
  const root = mkdtempSync(path.join(os.tmpdir(), 'fl-bench-incr-'));
  const redis = REDIS ? await startRedis() : null;
  try {
    const lakes = [];
    for (const rows of [SMALL, LARGE]) {
      const dir = path.join(root, String(rows));
      mkdirSync(dir);
      // Each lake its own Redis database, so that their online tables do not mix.
      const repo = writeRepo(dir, redis ? { redisUrl: `${redis.url}/${lakes.length}` } : {});
      await writeEvents(path.join(dir, 'events.parquet'), rows);
      featurelake(repo, {}, 'apply');
      featurelake(repo, {}, 'ingest', 'events', path.join(dir, 'events.parquet'));
      featurelake(repo, {}, 'materialize-incremental', new Date().toISOString(), '--views', 'v1'); // the first run: everything
      lakes.push({ rows, dir, repo, seconds: [] });
    }
    console.log(`machine: ${os.cpus().length} × ${os.cpus()[0].model}, Node ${process.version}`);
    console.log(`${NEW.toLocaleString('en-US')} new rows for random users, view v1 (10 features, no sql), online store: ${redis ? 'Redis' : 'embedded'}\n`);
    for (let round = 0; round < ROUNDS; round++) {
      for (const lake of lakes) {
        const batch = path.join(lake.dir, `new-${round}.parquet`);
        await writeNewRows(batch, NEW, lake.rows);
        featurelake(lake.repo, {}, 'ingest', 'events', batch);
        const out = featurelake(lake.repo, {}, 'materialize-incremental', new Date().toISOString(), '--views', 'v1');
        const seconds = Number(/succeeded in ([\d.]+) s/.exec(out)[1]);
        lake.seconds.push(seconds);
        console.log(`round ${round + 1}: lake of ${lake.rows.toLocaleString('en-US')} rows: ${seconds.toFixed(2)} s`);
      }
    }
    const [small, large] = lakes.map((l) => median(l.seconds));
    console.log(`\nmedian: ${small.toFixed(2)} s on ${SMALL.toLocaleString('en-US')} rows | ${large.toFixed(2)} s on ${LARGE.toLocaleString('en-US')} rows | ratio ${(large / small).toFixed(2)}× (target ≤ 1.2×)`);
  } finally {
    if (redis) await stop(redis.child);
    rmSync(root, { recursive: true, force: true });
  }
}

/** `count` rows for random users among `users`, stamped now (newer than everything in the lake). */
async function writeNewRows(file, count, users) {
  const db = await DuckDBInstance.create(':memory:');
  const c = await db.connect();
  const features = Array.from({ length: VIEWS * FEATURES_PER_VIEW }, (_, i) => `random() * 100 AS f${i}`).join(', ');
  await c.run(`COPY (SELECT (random() * ${users - 1})::BIGINT AS user_id, now()::TIMESTAMP AS ts, ${features} FROM range(${count})) TO '${file}' (FORMAT parquet, COMPRESSION zstd)`);
  c.closeSync();
  db.closeSync();
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
