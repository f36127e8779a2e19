#!/usr/bin/env node
'use strict';
/**
 * Benchmark 1: online serving with Redis. For 1 entity × 10 features, 1 × 50 (5 views) and
 * 100 × 50, wrk measures peak requests/s and p50/p99 latency of featurelake's
 * /get-online-features against a bare Node http + ioredis server doing the same Redis reads and
 * returning the same JSON (bench/baseline-online-server.js), in the same run, alternating.
 * Then p50/p99 of 1 × 50 at half of featurelake's peak rate (hey, rate-limited). Last, the cost
 * of feature logging: the same 1 × 50 request through a service that logs every vector
 * (sample_rate 1.0) against one that logs nothing, on the same server, alternating.
 *
 * Usage: npm run build && node bench/online-serving.js [--seconds 5] [--rounds 3] [--only-logging]
 * Needs: redis-server, wrk and hey (apt-get install wrk hey); taskset (util-linux) for pinning.
 */
const { mkdtempSync, readFileSync, readdirSync, rmSync } = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { BIN, HAS_TASKSET, freePort, startRedis, featurelake, startHttp, stop } = require('./lib/processes');
const { wrk, fixedRate, median } = require('./lib/load');
const { writeRepo, writeEvents } = require('./lib/bench-repo');

const args = process.argv.slice(2);
const option = (name, fallback) => (args.includes(`--${name}`) ? Number(args[args.indexOf(`--${name}`) + 1]) : fallback);
const SECONDS = option('seconds', 5);
const ROUNDS = option('rounds', 3);
const USERS = 10000;
const ONLY_LOGGING = args.includes('--only-logging');

const SCENARIOS = [
  { name: '1 entity × 10 features', body: { feature_service: 'fs10', entities: { user_id: [4242] } } },
  { name: '1 entity × 50 features (5 views)', body: { feature_service: 'fs50', entities: { user_id: [4242] } } },
  { name: '100 entities × 50 features', body: { feature_service: 'fs50', entities: { user_id: Array.from({ length: 100 }, (_, i) => i * 97) } } },
];

async function main() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'fl-bench-online-'));
  const redis = await startRedis();
  const children = [];
  try {
    const repo = writeRepo(dir, { redisUrl: redis.url });
    await writeEvents(path.join(dir, 'events.parquet'), USERS);
    featurelake(repo, {}, 'apply');
    featurelake(repo, {}, 'ingest', 'events', path.join(dir, 'events.parquet'));
    featurelake(repo, {}, 'materialize-incremental', new Date().toISOString());
    const registryDir = path.join(dir, 'lake', 'registry', 'versions');
    const registryFile = path.join(registryDir, readdirSync(registryDir).sort().at(-1));

    const ours = { name: 'featurelake', url: `http://127.0.0.1:${await freePort()}` };
    const base = { name: 'baseline', url: `http://127.0.0.1:${await freePort()}` };
    const nodeFlags = process.env.SERVER_NODE_FLAGS ? process.env.SERVER_NODE_FLAGS.split(' ') : [];
    children.push(await startHttp(process.execPath, [...nodeFlags, BIN, '--repo', repo, 'serve', '--port', new URL(ours.url).port], {}, ours.url));
    children.push(await startHttp(process.execPath, [path.join(__dirname, 'baseline-online-server.js'), new URL(base.url).port, redis.url, 'bench', registryFile], {}, base.url));

    for (const scenario of SCENARIOS) await assertSameAnswer(scenario, ours, base);
    if (ONLY_LOGGING) return await loggingCost(ours);
    console.log(`machine: ${os.cpus().length} × ${os.cpus()[0].model}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`);
    console.log(`load: wrk -t1 -c50, ${ROUNDS} rounds of ${SECONDS} s per server and scenario, alternating; medians`);
    console.log(HAS_TASKSET ? 'pinning: servers on core 0; Redis, wrk and hey on core 1\n' : 'pinning: none (no taskset)\n');
    const rows = [];
    let peak1x50;
    for (const scenario of SCENARIOS) {
      for (const server of [ours, base]) wrk(`${server.url}/get-online-features`, scenario.body, { seconds: 1 }); // warm-up
      const runs = { ours: [], base: [] };
      for (let round = 0; round < ROUNDS; round++) {
        runs.ours.push(wrk(`${ours.url}/get-online-features`, scenario.body, { seconds: SECONDS }));
        runs.base.push(wrk(`${base.url}/get-online-features`, scenario.body, { seconds: SECONDS }));
      }
      const m = (list, key) => median(list.map((r) => r[key]));
      const row = { scenario: scenario.name, ours: { rps: m(runs.ours, 'rps'), p50: m(runs.ours, 'p50'), p99: m(runs.ours, 'p99') }, base: { rps: m(runs.base, 'rps'), p50: m(runs.base, 'p50'), p99: m(runs.base, 'p99') } };
      rows.push(row);
      if (scenario === SCENARIOS[1]) peak1x50 = row.ours.rps;
      console.log(
        `${scenario.name.padEnd(34)} featurelake ${fmt(row.ours.rps)} req/s (p50 ${row.ours.p50.toFixed(2)} ms, p99 ${row.ours.p99.toFixed(2)} ms)` +
          ` | baseline ${fmt(row.base.rps)} req/s (p50 ${row.base.p50.toFixed(2)} ms, p99 ${row.base.p99.toFixed(2)} ms)` +
          ` | ratio ${(row.ours.rps / row.base.rps).toFixed(2)}×`,
      );
    }
    const rate = Math.round(peak1x50 / 2);
    const body = SCENARIOS[1].body;
    const oursAtRate = median3(() => fixedRate(`${ours.url}/get-online-features`, body, { rate, seconds: 10 }));
    const baseAtRate = median3(() => fixedRate(`${base.url}/get-online-features`, body, { rate, seconds: 10 }));
    console.log(
      `\n1 × 50 at half of featurelake's peak (${rate} req/s, hey -c4 rate-limited, 3 × 10 s, median): featurelake p50 ${oursAtRate.p50.toFixed(2)} ms, p99 ${oursAtRate.p99.toFixed(2)} ms` +
        ` | baseline p50 ${baseAtRate.p50.toFixed(2)} ms, p99 ${baseAtRate.p99.toFixed(2)} ms (errors: ${oursAtRate.errors + baseAtRate.errors})`,
    );
    await loggingCost(ours);
  } finally {
    for (const child of children) await stop(child);
    await stop(redis.child);
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Feature logging's cost: 1 × 50 through fs50_logged (every vector logged, flushed to the lake as
 * Parquet by the same process) against fs50 (not logged), alternating rounds on one server; then
 * both at the same fixed rate. The logged row count is read from /metrics, so the work is real.
 */
async function loggingCost(server) {
  const plain = { feature_service: 'fs50', entities: { user_id: [4242] } };
  const logged = { feature_service: 'fs50_logged', entities: { user_id: [4242] } };
  const url = `${server.url}/get-online-features`;
  for (const body of [plain, logged]) wrk(url, body, { seconds: 1 }); // warm-up
  const runs = { plain: [], logged: [] };
  for (let round = 0; round < ROUNDS; round++) {
    runs.plain.push(wrk(url, plain, { seconds: SECONDS }));
    runs.logged.push(wrk(url, logged, { seconds: SECONDS }));
  }
  const m = (list, key) => median(list.map((r) => r[key]));
  console.log(
    `\nfeature logging, 1 × 50 at peak (wrk -c50, ${ROUNDS} × ${SECONDS} s, medians): not logged ${fmt(m(runs.plain, 'rps'))} req/s (p50 ${m(runs.plain, 'p50').toFixed(2)} ms, p99 ${m(runs.plain, 'p99').toFixed(2)} ms)` +
      ` | every vector logged ${fmt(m(runs.logged, 'rps'))} req/s (p50 ${m(runs.logged, 'p50').toFixed(2)} ms, p99 ${m(runs.logged, 'p99').toFixed(2)} ms) | ratio ${(m(runs.logged, 'rps') / m(runs.plain, 'rps')).toFixed(2)}×`,
  );
  const rate = Math.round(m(runs.plain, 'rps') / 2);
  const plainAtRate = median3(() => fixedRate(url, plain, { rate, seconds: 10 }));
  const loggedAtRate = median3(() => fixedRate(url, logged, { rate, seconds: 10 }));
  console.log(
    `feature logging at ${rate} req/s (hey -c4, 3 × 10 s, median): not logged p50 ${plainAtRate.p50.toFixed(2)} ms, p99 ${plainAtRate.p99.toFixed(2)} ms` +
      ` | logged p50 ${loggedAtRate.p50.toFixed(2)} ms, p99 ${loggedAtRate.p99.toFixed(2)} ms (errors: ${plainAtRate.errors + loggedAtRate.errors})`,
  );
  // A fresh connection: a pooled one may have been closed by the server while the load ran.
  const metrics = await (await fetch(`${server.url}/metrics`, { keepalive: false }).catch(() => fetch(`${server.url}/metrics`))).text();
  const rows = /featurelake_feature_log_rows_total\{feature_service="fs50_logged"\} (\d+)/.exec(metrics)?.[1] ?? '0';
  const dropped = /featurelake_feature_log_dropped_rows_total\{feature_service="fs50_logged"\} (\d+)/.exec(metrics)?.[1] ?? '0';
  console.log(`rows written to the feature log so far: ${Number(rows).toLocaleString('en-US')} (dropped: ${dropped}; the rest are still buffered)`);
}

/** Runs a fixed-rate measurement three times and keeps the run with the median p99. */
function median3(measure) {
  const runs = [measure(), measure(), measure()].sort((a, b) => a.p99 - b.p99);
  return runs[1];
}

/** Both servers must give the same answer, or the comparison means nothing. */
async function assertSameAnswer(scenario, ours, base) {
  const ask = async (server) => {
    const response = await fetch(`${server.url}/get-online-features`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(scenario.body) });
    if (!response.ok) throw new Error(`${server.name}: ${response.status} ${await response.text()}`);
    return response.json();
  };
  const [a, b] = await Promise.all([ask(ours), ask(base)]);
  if (JSON.stringify(a) !== JSON.stringify(b)) throw new Error(`the servers disagree on ${scenario.name}`);
  if (a.results[1].statuses.some((s) => s !== 'PRESENT')) throw new Error(`expected fresh values for ${scenario.name}`);
}

function fmt(n) {
  return Math.round(n).toLocaleString('en-US').padStart(7);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
