#!/usr/bin/env node
'use strict';
/**
 * Benchmark 4: a point-in-time training set. A spine of 1M entity rows (a Parquet file) against
 * two feature views of 10M rows each (100k entities × 100 timestamps, 10 float64 features),
 * result written as Parquet. featurelake: HistoricalFeaturesService.toFile in process (spine
 * file → DuckDB → the join → Parquet), after one warm-up. Baseline, in the same process on the
 * same DuckDB instance: a hand-written ASOF LEFT JOIN of the spine file to both views' Parquet
 * files in the lake (each view materialized once, so its files hold its rows exactly), ordered
 * as the input, COPY to Parquet. Alternating rounds; medians; peak RSS of the
 * process (it holds both).
 *
 * DuckDB's memory limit for the offline store is a parameter (default here 8GB: the joins of
 * 10M-row tables fit in memory; at featurelake's default of 1GB they spill to disk).
 *
 * Usage: npm run build && node bench/training-set.js [--entities 100000] [--times 100] [--spine 1000000] [--rounds 3] [--memory-limit 8GB]
 */
const { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { DuckDBInstance } = require('@duckdb/node-api');
const { NestFactory } = require('@nestjs/core');
const { featurelake } = require('./lib/processes');
const { median } = require('./lib/load');
const { AppModule } = require('../dist/app.module');
const { loadConfig } = require('../dist/config/load-config');
const { HistoricalFeaturesService } = require('../dist/retrieval/historical-features.service');
const { OfflineDatabase } = require('../dist/duckdb/duckdb.module');

const args = process.argv.slice(2);
const option = (name, fallback) => (args.includes(`--${name}`) ? Number(args[args.indexOf(`--${name}`) + 1]) : fallback);
const ENTITIES = option('entities', 100_000);
const TIMES = option('times', 100);
const SPINE = option('spine', 1_000_000);
const ROUNDS = option('rounds', 3);
const MEMORY_LIMIT = args.includes('--memory-limit') ? args[args.indexOf('--memory-limit') + 1] : '8GB';

async function main() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'fl-bench-pit-'));
  let peak = 0;
  const sampler = setInterval(() => {
    const kb = Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))[1]);
    peak = Math.max(peak, kb * 1024);
  }, 100);
  try {
    const repo = writeRepo(dir);
    await writeData(dir);
    featurelake(repo, {}, 'apply');
    featurelake(repo, {}, 'ingest', 'a', path.join(dir, 'a.parquet'));
    featurelake(repo, {}, 'ingest', 'b', path.join(dir, 'b.parquet'));
    featurelake(repo, {}, 'materialize-incremental', '2030-01-01T00:00:00Z');
    console.log(`machine: ${os.cpus().length} × ${os.cpus()[0].model}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`);
    console.log(`DuckDB memory limit ${MEMORY_LIMIT}; spine ${SPINE.toLocaleString('en-US')} rows; two views of ${(ENTITIES * TIMES).toLocaleString('en-US')} rows (${ENTITIES.toLocaleString('en-US')} entities × ${TIMES} timestamps, 10 features); ${ROUNDS} alternating rounds\n`);

    const app = await NestFactory.createApplicationContext(AppModule.register(loadConfig(repo, {})), { logger: ['error'] });
    const service = app.get(HistoricalFeaturesService);
    const db = app.get(OfflineDatabase);
    const ours = () =>
      timed(() =>
        service.toFile(
          { features: ['va', 'vb'].flatMap((v) => Array.from({ length: 10 }, (_, i) => `${v}:${v[1]}${i}`)), source: { kind: 'file', path: path.join(dir, 'spine.parquet'), format: 'parquet', name: 'spine.parquet' } },
          'parquet',
          path.join(dir, 'ours.parquet'),
        ),
      );
    const baseline = () => timed(() => db.withConnection((c) => c.run(handWritten(dir, path.join(dir, 'spine.parquet'), path.join(dir, 'baseline.parquet')))));
    await ours(); // warm-up: also finds once that (keys, event time) is unique in both tables
    await baseline();
    const runs = { ours: [], base: [] };
    for (let round = 0; round < ROUNDS; round++) {
      runs.ours.push(await ours());
      runs.base.push(await baseline());
      console.log(`round ${round + 1}: featurelake ${runs.ours[round].toFixed(2)} s | hand-written ASOF join ${runs.base[round].toFixed(2)} s`);
    }
    await checkSame(dir);
    const o = median(runs.ours);
    const b = median(runs.base);
    console.log(`\nmedian: featurelake ${o.toFixed(2)} s (${Math.round(SPINE / o).toLocaleString('en-US')} spine rows/s) | hand-written ${b.toFixed(2)} s (${Math.round(SPINE / b).toLocaleString('en-US')} rows/s) | speed ratio ${(b / o).toFixed(2)}×`);
    console.log(`peak RSS of this process (featurelake, DuckDB and the baseline): ${Math.round(peak / 2 ** 20).toLocaleString('en-US')} MiB`);
    await streamedJson(service, dir);
    await app.close();
  } finally {
    clearInterval(sampler);
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The view's data files in the lake (its bucket folders; sidecars excluded: one window run writes none). */
function viewFiles(dir, view) {
  const root = path.join(dir, 'lake', 'views', view);
  const files = readdirSync(root, { recursive: true }).filter((f) => f.endsWith('.parquet') && !f.endsWith('.replaces.parquet'));
  return `[${files.map((f) => `'${path.join(root, f)}'`).join(', ')}]`;
}

function handWritten(dir, spine, out) {
  const a = Array.from({ length: 10 }, (_, i) => `a.a${i}`).join(', ');
  const b = Array.from({ length: 10 }, (_, i) => `b.b${i}`).join(', ');
  return `COPY (
    SELECT s.user_id, s.event_timestamp, s.label, ${a}, ${b}
    FROM (SELECT row_number() OVER () AS n, * FROM read_parquet('${spine}')) s
    ASOF LEFT JOIN read_parquet(${viewFiles(dir, 'va')}) a ON s.user_id = a.user_id AND s.event_timestamp >= a.event_timestamp
    ASOF LEFT JOIN read_parquet(${viewFiles(dir, 'vb')}) b ON s.user_id = b.user_id AND s.event_timestamp >= b.event_timestamp
    ORDER BY s.n
  ) TO '${out}' (FORMAT parquet, COMPRESSION zstd)`;
}

/**
 * The same result as Feast's column-major JSON through the HTTP path's streaming encoder, read to
 * the end: the JS heap must stay small however many rows (it holds one DuckDB chunk at a time).
 */
async function streamedJson(service, dir) {
  const features = ['va', 'vb'].flatMap((v) => Array.from({ length: 10 }, (_, i) => `${v}:${v[1]}${i}`));
  let heap = 0;
  const sampler = setInterval(() => (heap = Math.max(heap, process.memoryUsage().heapUsed)), 20);
  const started = process.hrtime.bigint();
  const result = await service.retrieve({ features, source: { kind: 'file', path: path.join(dir, 'spine.parquet'), format: 'parquet', name: 'spine.parquet' } }, 'json');
  let bytes = 0;
  for await (const chunk of result.stream) bytes += chunk.length;
  clearInterval(sampler);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  console.log(`streamed JSON of the ${result.rows.toLocaleString('en-US')}-row result: ${(bytes / 2 ** 20).toFixed(0)} MiB in ${seconds.toFixed(1)} s, peak JS heap ${Math.round(heap / 2 ** 20)} MiB`);
}

/** Both results must hold the same values, or the comparison means nothing. */
async function checkSame(dir) {
  const db = await DuckDBInstance.create(':memory:');
  const c = await db.connect();
  const cols = ['user_id', 'event_timestamp', 'label', ...Array.from({ length: 10 }, (_, i) => `a${i}`), ...Array.from({ length: 10 }, (_, i) => `b${i}`)].join(', ');
  const reader = await c.runAndReadAll(`SELECT count(*) FROM (SELECT ${cols} FROM '${dir}/ours.parquet' EXCEPT ALL SELECT ${cols} FROM '${dir}/baseline.parquet')`);
  const differing = Number(reader.getRows()[0][0]);
  c.closeSync();
  db.closeSync();
  if (differing !== 0) throw new Error(`the results differ in ${differing} rows`);
}

async function timed(work) {
  const started = process.hrtime.bigint();
  await work();
  return Number(process.hrtime.bigint() - started) / 1e9;
}

function writeRepo(dir) {
  const repo = path.join(dir, 'repo');
  mkdirSync(repo);
  writeFileSync(path.join(repo, 'featurelake.yaml'), `project: pit\nlake:\n  uri: file://${dir}/lake\nstate_dir: ${dir}\nduckdb:\n  memory_limit: ${MEMORY_LIMIT}\n`);
  const view = (name, prefix) =>
    `  - name: ${name}\n    entities: [user]\n    source: ${name[1]}\n    online: false\n    features:\n${Array.from({ length: 10 }, (_, i) => `      - { name: ${prefix}${i}, type: float64 }`).join('\n')}`;
  writeFileSync(
    path.join(repo, 'defs.yaml'),
    `entities:\n  - { name: user, join_keys: [user_id], value_type: int64 }\ndatasets:\n  - { name: a, timestamp_field: ts }\n  - { name: b, timestamp_field: ts }\nfeature_views:\n${view('va', 'a')}\n${view('vb', 'b')}\n`,
  );
  return repo;
}

async function writeData(dir) {
  const db = await DuckDBInstance.create(':memory:');
  const c = await db.connect();
  for (const name of ['a', 'b']) {
    const features = Array.from({ length: 10 }, (_, i) => `random() AS ${name}${i}`).join(', ');
    const offset = name === 'a' ? 0 : 1800;
    await c.run(`COPY (SELECT u.range AS user_id, TIMESTAMP '2026-01-01' + to_seconds(t.range * 3600 + ${offset}) AS ts, ${features}
                 FROM range(${ENTITIES}) u, range(${TIMES}) t) TO '${dir}/${name}.parquet' (FORMAT parquet)`);
  }
  await c.run(`COPY (SELECT (random() * ${ENTITIES})::BIGINT AS user_id, TIMESTAMP '2026-01-01' + to_seconds((random() * ${TIMES * 3600 + 7200})::BIGINT) AS event_timestamp, (random() * 2)::INTEGER AS label
               FROM range(${SPINE})) TO '${dir}/spine.parquet' (FORMAT parquet)`);
  c.closeSync();
  db.closeSync();
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
