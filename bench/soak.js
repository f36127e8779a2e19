#!/usr/bin/env node
'use strict';
/**
 * Benchmark 5: a soak. One featurelake server (Redis online store, DuckDB offline store, a local
 * lake) takes, for several minutes and all at once:
 *  (a) online reads at a fixed rate, alternating 1 entity × 10 features and 1 × 50 (five views),
 *      random users, from a separate load process (bench/lib/soak-reader.js);
 *  (b) a push to the online store every 100 ms, a few rows each (POST /push);
 *  (c) a materialization loop, back to back: a fresh batch file is ingested into the lake
 *      (POST /datasets/events/files) and materialized incrementally into DuckDB and Redis
 *      (POST /materialize-incremental?async=true, polled through GET /jobs/{id}).
 * Every non-2xx answer and every connection error is counted per kind: the run fails unless
 * there are none. The server's RSS (/proc/<pid>/status VmRSS) is sampled every 5 s; flat means
 * the last minute's median within ~10% of the first minute's, or a least-squares slope near 0.
 * Baseline in the same run: the same reads alone (no pushes, no materialization) for a short
 * phase before the soak, and again after it; read latency and throughput of the mixed phase are
 * printed next to it, as a ratio. Then one more phase of reads beside a hostile client
 * (bench/lib/soak-hostile.js: bodies and bombs that must be refused), its read latency printed
 * next to the "reads only, after" phase just before it. At the end the data is checked: the last
 * pushed rows and the last materialized batch must be what the online store serves.
 *
 * Usage: npm run build && node bench/soak.js [--minutes 5] [--baseline-seconds 30] [--rate 500]
 *        [--connections 64] [--users 1000000] [--history 2] [--batch 500000] [--push-interval 100] [--push-rows 5]
 * Needs: redis-server; taskset (util-linux) for pinning. Auth is off (no API keys configured).
 */
const { closeSync, createReadStream, mkdtempSync, openSync, readFileSync, renameSync, rmSync, statSync } = require('node:fs');
const { fork, spawnSync } = require('node:child_process');
const http = require('node:http');
const os = require('node:os');
const path = require('node:path');
const { performance } = require('node:perf_hooks');
const { BIN, HAS_TASKSET, freePort, startRedis, featurelake, startHttp, stop, sleep } = require('./lib/processes');
const { writeSoakRepo, SoakData, FEATURES } = require('./lib/soak-repo');
const { HOSTILE_LIMITS, writeBomb, hostileLoop, hostileErrors, printHostile } = require('./lib/soak-hostile');

const args = process.argv.slice(2);
const option = (name, fallback) => (args.includes(`--${name}`) ? Number(args[args.indexOf(`--${name}`) + 1]) : fallback);
const MINUTES = option('minutes', 5);
const BASELINE_SECONDS = option('baseline-seconds', 30);
const RATE = option('rate', 500);
const CONNECTIONS = option('connections', 64);
const USERS = option('users', 1_000_000);
const HISTORY = option('history', 2);
const BATCH = option('batch', 500_000);
const PUSH_MS = option('push-interval', 100);
const PUSH_ROWS = option('push-rows', 5);
const SAMPLE_MS = 5000;
const MiB = 2 ** 20;

/** Every HTTP call the driver makes, per kind: count, non-2xx, connection errors, latencies. */
const calls = {};
const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
let base;

function kindOf(kind) {
  return (calls[kind] ??= { requests: 0, non2xx: 0, connErrors: 0, times: [], messages: {} });
}

/** One request; returns { status, json } or null on a connection error. Non-2xx and errors are counted. */
function call(kind, method, pathname, { json, file, contentType, timeoutMs = 30_000 } = {}) {
  const k = kindOf(kind);
  k.requests++;
  return new Promise((resolve) => {
    const started = performance.now();
    const startedAt = Date.now();
    const body = json === undefined ? null : Buffer.from(JSON.stringify(json));
    const headers = body ? { 'content-type': 'application/json', 'content-length': body.length } : file ? { 'content-type': contentType, 'content-length': statSync(file).size } : {};
    let settled = false;
    const fail = (message) => {
      if (settled) return;
      settled = true;
      k.connErrors++;
      k.messages[message] = (k.messages[message] ?? 0) + 1;
      resolve(null);
    };
    const req = http.request(`${base}${pathname}`, { method, agent, headers, timeout: timeoutMs }, (res) => {
      const chunks = [];
      res.on('data', (chunk) => chunks.push(chunk));
      res.on('error', (error) => fail(`response: ${error.code ?? error.message}`));
      res.on('end', () => {
        if (settled) return;
        settled = true;
        k.times.push({ t: startedAt, ms: performance.now() - started });
        const text = Buffer.concat(chunks).toString();
        if (res.statusCode < 200 || res.statusCode > 299) {
          k.non2xx++;
          const message = `HTTP ${res.statusCode}: ${text.slice(0, 300)}`;
          k.messages[message] = (k.messages[message] ?? 0) + 1;
        }
        let parsed = null;
        try {
          parsed = text && (res.headers['content-type'] ?? '').includes('json') ? JSON.parse(text) : text;
        } catch {
          parsed = text;
        }
        resolve({ status: res.statusCode, json: parsed });
      });
    });
    req.on('timeout', () => req.destroy(new Error(`timeout after ${timeoutMs} ms`)));
    req.on('error', (error) => fail(`request: ${error.code ?? error.message}`));
    if (body) req.end(body);
    else if (file) createReadStream(file).on('error', (error) => req.destroy(error)).pipe(req);
    else req.end();
  });
}

const ok = (res) => res !== null && res.status >= 200 && res.status <= 299;

async function main() {
  if (HAS_TASKSET) spawnSync('taskset', ['-a', '-p', '-c', '1', String(process.pid)], { stdio: 'ignore' }); // the driver shares core 1 with Redis and the reader
  const dir = mkdtempSync(path.join(os.tmpdir(), 'fl-bench-soak-'));
  const redis = await startRedis();
  const data = await SoakData.open();
  const logFile = path.join(dir, 'server.log');
  const logFd = openSync(logFile, 'a');
  let server;
  let reader;
  try {
    console.log(`machine: ${os.cpus().length} × ${os.cpus()[0].model}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`);
    console.log(HAS_TASKSET ? 'pinning: featurelake on core 0; Redis, the reader and this driver on core 1' : 'pinning: none (no taskset)');
    // The lake: `events` (HISTORY rows per user), `profile` (one per user); all of it materialized before the server starts.
    const repo = writeSoakRepo(dir, { redisUrl: redis.url, extra: HOSTILE_LIMITS });
    const bombFile = path.join(dir, 'bomb.parquet');
    await writeBomb(data.c, bombFile);
    featurelake(repo, {}, 'apply');
    const setupStarted = Date.now();
    const now = Date.now();
    const batches = []; // { batch, first, rows } of every batch in the lake (for the final check)
    for (let h = 1; h <= HISTORY; h++) {
      const file = path.join(dir, `events-${h}.parquet`);
      await data.eventsBatch(file, { users: USERS, first: 0, rows: USERS, batch: h, ts: new Date(now - (HISTORY + 1 - h) * 3600_000) });
      featurelake(repo, {}, 'ingest', 'events', file);
      rmSync(file);
      batches.push({ batch: h, first: 0, rows: USERS });
    }
    await data.profile(path.join(dir, 'profile.parquet'), { users: USERS, ts: new Date(now - 4 * 3600_000) });
    featurelake(repo, {}, 'ingest', 'profile', path.join(dir, 'profile.parquet'));
    rmSync(path.join(dir, 'profile.parquet'));
    featurelake(repo, {}, 'materialize-incremental', new Date().toISOString(), '--views', 'batch,prof1,prof2,prof3');
    console.log(
      `setup: ${USERS.toLocaleString('en-US')} users; events ${(USERS * HISTORY).toLocaleString('en-US')} rows, profile ${USERS.toLocaleString('en-US')} rows, ` +
        `materialized in ${((Date.now() - setupStarted) / 1000).toFixed(0)} s`,
    );

    base = `http://127.0.0.1:${await freePort()}`;
    server = await startHttp(process.execPath, [BIN, '--repo', repo, 'serve', '--port', new URL(base).port], {}, base, { stdout: logFd });
    let serverExit = null;
    server.once('exit', (code, signal) => (serverExit = { code, signal, at: Date.now() }));
    const pid = server.pid; // taskset execs node: the same process

    // RSS (and the JS heap, from /metrics) every 5 s, from here to the end.
    const samples = [];
    let phaseName = 'warm-up';
    // CPU: the whole server process and its main (event-loop) thread, in % of one core since the last sample.
    let lastCpu = cpuTicks(pid);
    let lastCores = coreTicks();
    const sampler = setInterval(async () => {
      const t = Date.now();
      const rss = vmRss(pid);
      const cpu = cpuTicks(pid);
      const cores = coreTicks();
      const busy = cores.map((c, i) => (100 * (c.busy - lastCores[i].busy)) / Math.max(1, c.total - lastCores[i].total));
      lastCores = cores;
      const metrics = await call('metrics', 'GET', '/metrics');
      const heap = ok(metrics) ? metric(metrics.json, 'featurelake_nodejs_heap_size_used_bytes') : null;
      const lagMax = ok(metrics) ? metric(metrics.json, 'featurelake_nodejs_eventloop_lag_max_seconds') : null;
      const lagP99 = ok(metrics) ? metric(metrics.json, 'featurelake_nodejs_eventloop_lag_p99_seconds') : null;
      if (rss === null || cpu === null || lastCpu === null) return;
      const seconds = (cpu.at - lastCpu.at) / 1000;
      const process_ = (cpu.process - lastCpu.process) / TICKS / seconds;
      const main = (cpu.main - lastCpu.main) / TICKS / seconds;
      lastCpu = cpu;
      samples.push({ t, phase: phaseName, rss, heap, cpu: 100 * process_, mainCpu: 100 * main, lagMax, lagP99, busy });
    }, SAMPLE_MS);

    reader = await startReader();
    const phases = {};
    const phase = (name, index) => {
      phaseName = name;
      reader.child.send({ phase: index });
      phases[name] = { start: Date.now() };
    };
    const endPhase = (name) => (phases[name].end = Date.now());

    // Warm-up (not counted in the read figures): reads, pushes and one materialization cycle.
    console.log(`warm-up: reads at ${RATE} req/s, pushes, one ingest + materialization of ${BATCH.toLocaleString('en-US')} rows`);
    phase('warm-up', 0);
    const state = { stopping: false, batchNo: HISTORY, cycles: [], lastPush: null, batches, pid };
    const warmPushes = pushLoop(state);
    await materializationLoop(state, data, dir, { once: true });
    state.stopping = true;
    await warmPushes;
    await sleep(2000);
    endPhase('warm-up');

    console.log(`reads only: ${BASELINE_SECONDS} s`);
    phase('reads only, before', 1);
    await sleep(BASELINE_SECONDS * 1000);
    endPhase('reads only, before');

    console.log(`mixed: ${MINUTES} min of reads at ${RATE} req/s + a push of ${PUSH_ROWS} rows every ${PUSH_MS} ms + ingest/materialize-incremental of ${BATCH.toLocaleString('en-US')} rows back to back`);
    phase('mixed', 2);
    const mixedStart = Date.now();
    state.stopping = false;
    const warmCycles = state.cycles.length;
    const pushes = pushLoop(state);
    const materializations = materializationLoop(state, data, dir, { once: false, onCycle: (c) => printCycle(c, mixedStart) });
    const progress = setInterval(() => {
      const s = samples.at(-1);
      console.log(`  ${fmtClock(Date.now() - mixedStart)} RSS ${s ? (s.rss / MiB).toFixed(0) : '?'} MiB, heap ${s?.heap ? (s.heap / MiB).toFixed(0) : '?'} MiB, pushes ${kindOf('push').requests}`);
    }, 30_000);
    await sleep(MINUTES * 60_000);
    state.stopping = true;
    const mixedEnd = Date.now();
    endPhase('mixed');
    await pushes;
    const readsStopped = Date.now();
    // Reads go on (as "reads only, after") once the last cycle has finished, so the mixed
    // phase's reads end exactly at its deadline.
    phase('draining', 3);
    await materializations;
    clearInterval(progress);
    const lastCycleLate = (Date.now() - readsStopped) / 1000;
    await sleep(2000);

    console.log(`reads only again: ${BASELINE_SECONDS} s`);
    phase('reads only, after', 4);
    await sleep(BASELINE_SECONDS * 1000);
    endPhase('reads only, after');

    console.log(`reads + hostile client: ${BASELINE_SECONDS} s`);
    phase('reads + hostile', 5);
    const hostileState = { stopping: false };
    const hostile = hostileLoop(base, bombFile, hostileState);
    await sleep(BASELINE_SECONDS * 1000);
    hostileState.stopping = true;
    const hostileOutcomes = await hostile;
    endPhase('reads + hostile');
    const reads = await stopReader(reader);
    reader = null;
    clearInterval(sampler);

    // The data: the last push and the newest batch per user must be what is served.
    const check = await checkData(state);
    const metricsText = await call('metrics', 'GET', '/metrics');
    const logSummary = summarizeLog(logFile);
    const serverAlive = serverExit === null;

    report({ reads, phases, samples, state, warmCycles, mixedStart, mixedEnd, lastCycleLate, check, metricsText, logSummary, serverAlive, serverExit });
    reportHostile(reads, phases, samples, hostileOutcomes, ok(metricsText) ? sumMetric(metricsText.json, 'featurelake_http_request_duration_seconds_count', (labels) => /route="\/get-online-features",status="413"/.test(labels)) : null);
    const errors = totalErrors(reads, state) + check.mismatches + hostileErrors(hostileOutcomes) + (serverAlive ? 0 : 1);
    if (errors > 0 || logSummary.errors > 0) {
      const kept = path.join(os.tmpdir(), `featurelake-soak-${Date.now()}.log`);
      renameSync(logFile, kept);
      console.log(`\nserver log kept: ${kept}`);
    }
    if (errors > 0) {
      console.log(`\nFAILED: ${errors} error(s)`);
      process.exitCode = 1;
    } else console.log('\nOK: no errors');
  } finally {
    if (reader) await stopReader(reader).catch(() => undefined);
    if (server) await stop(server);
    await stop(redis.child);
    closeSync(logFd);
    data.close();
    agent.destroy();
    rmSync(dir, { recursive: true, force: true }); // the server log was moved out first when it is worth keeping
  }
}

// ---------------------------------------------------------------------------------------------
// Load

async function startReader() {
  const child = fork(path.join(__dirname, 'lib', 'soak-reader.js'), [JSON.stringify({ url: base, users: USERS, rate: RATE, connections: CONNECTIONS, timeoutMs: 10_000 })], {
    serialization: 'advanced',
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const result = new Promise((resolve, reject) => {
    child.on('message', (message) => message.kinds && resolve(message));
    child.once('exit', (code) => reject(new Error(`the reader exited (${code}) before reporting`)));
  });
  result.catch(() => undefined);
  await new Promise((resolve) => child.on('message', (m) => m.ready && resolve()));
  return { child, result };
}

async function stopReader(reader) {
  reader.child.send({ stop: true });
  return reader.result;
}

/** A push of PUSH_ROWS distinct random users to the online store every PUSH_MS (a late one goes at once, missed ticks are skipped). */
async function pushLoop(state) {
  let next = performance.now();
  while (!state.stopping) {
    const users = new Set();
    while (users.size < PUSH_ROWS) users.add(Math.floor(Math.random() * USERS));
    const df = { user_id: [...users], ts: [...users].map(() => new Date().toISOString()) };
    for (let f = 0; f < FEATURES; f++) df[`p${f}`] = [...users].map(() => Math.round(Math.random() * 1e6) / 100);
    const res = await call('push', 'POST', '/push', { json: { push_source_name: 'live_push', df, to: 'online' } });
    if (ok(res)) state.lastPush = df;
    next += PUSH_MS;
    const wait = next - performance.now();
    if (wait > 0) await sleep(wait);
    else next = performance.now();
  }
}

/**
 * Back to back until state.stopping: ingest a fresh batch file (written while the previous job
 * ran), submit materialize-incremental for `batch` as a background job, poll it every second.
 */
async function materializationLoop(state, data, dir, { once, onCycle }) {
  const prepare = async (batch) => {
    const file = path.join(dir, `batch-${batch}.parquet`);
    const first = ((batch - HISTORY - 1) * BATCH) % USERS;
    const started = performance.now();
    await data.eventsBatch(file, { users: USERS, first, rows: BATCH, batch, ts: new Date() });
    return { file, batch, first, writeMs: performance.now() - started };
  };
  let prepared = prepare(++state.batchNo);
  while (!state.stopping) {
    const { file, batch, first } = await prepared;
    const cycle = { batch, started: Date.now() };
    const ingestStarted = performance.now();
    const ingest = await call('ingest', 'POST', '/datasets/events/files', { file, contentType: 'application/vnd.apache.parquet', timeoutMs: 600_000 });
    cycle.ingestMs = performance.now() - ingestStarted;
    cycle.submittedAt = Date.now();
    rmSync(file, { force: true });
    if (!ok(ingest)) {
      if (once) return;
      prepared = prepare(++state.batchNo);
      await sleep(1000);
      continue;
    }
    state.batches.push({ batch, first, rows: BATCH, ingested: true });
    const submitted = await call('materialize', 'POST', '/materialize-incremental?async=true', { json: { end_ts: new Date().toISOString(), feature_views: ['batch'] } });
    if (!ok(submitted) || submitted.status !== 202) {
      if (ok(submitted)) kindOf('materialize').messages[`expected 202, got ${submitted.status}`] = 1;
      if (once) return;
      prepared = prepare(++state.batchNo);
      await sleep(1000);
      continue;
    }
    const nextBatch = once ? null : prepare(++state.batchNo);
    nextBatch?.catch(() => undefined);
    const job = await poll(submitted.json.job_id);
    cycle.finished = Date.now();
    cycle.rss = vmRss(state.pid); // between two jobs: what the server keeps
    cycle.state = job?.state ?? 'unknown';
    cycle.jobMs = job?.duration_ms ?? null;
    cycle.rowsNew = job?.rows.new ?? 0;
    cycle.rowsOffline = job?.rows.offline_written ?? 0;
    cycle.rowsOnline = job?.rows.online_written ?? 0;
    cycle.sourceRows = job?.rows.source ?? 0;
    if (cycle.state !== 'succeeded') {
      const k = kindOf('job failed');
      k.requests++;
      k.non2xx++;
      k.messages[JSON.stringify(job?.error ?? 'no job state')] = (k.messages[JSON.stringify(job?.error ?? 'no job state')] ?? 0) + 1;
    } else {
      kindOf('job failed').requests++;
    }
    state.cycles.push(cycle);
    onCycle?.(cycle);
    if (once) return;
    prepared = nextBatch;
  }
  const leftover = await prepared.catch(() => null); // written for a cycle that did not start
  if (leftover) rmSync(leftover.file, { force: true });
}

async function poll(id) {
  for (;;) {
    await sleep(1000);
    const res = await call('job poll', 'GET', `/jobs/${encodeURIComponent(id)}`);
    if (ok(res) && ['succeeded', 'failed', 'cancelled'].includes(res.json.state)) return res.json;
    if (res && !ok(res) && res.status === 404) return null;
  }
}

// ---------------------------------------------------------------------------------------------
// Checks

/** The last pushed rows, and for 200 random users the batch number (f0) of the newest batch that covered them. */
async function checkData(state) {
  const result = { mismatches: 0, pushed: 0, users: 0, examples: [] };
  const covered = (u, b) => ((u - b.first + USERS) % USERS) < b.rows;
  const users = Array.from({ length: 200 }, () => Math.floor(Math.random() * USERS));
  // Every batch ingested up to the last one a successful job consumed (a job takes all unconsumed files).
  const consumed = Math.max(HISTORY, ...state.cycles.filter((c) => c.state === 'succeeded').map((c) => c.batch));
  const expected = users.map((u) => Math.max(...state.batches.filter((b) => b.batch <= consumed && covered(u, b)).map((b) => b.batch)));
  const res = await call('check', 'POST', '/get-online-features', { json: { features: ['batch:f0'], entities: { user_id: users } } });
  if (!ok(res)) return { ...result, mismatches: 1, examples: ['the check read failed'] };
  const f0 = res.json.results[1].values;
  users.forEach((u, i) => {
    result.users++;
    if (f0[i] !== expected[i]) {
      result.mismatches++;
      if (result.examples.length < 5) result.examples.push(`user ${u}: f0 ${f0[i]}, expected batch ${expected[i]}`);
    }
  });
  const push = state.lastPush;
  if (push) {
    const features = Array.from({ length: FEATURES }, (_, f) => `live:p${f}`);
    const got = await call('check', 'POST', '/get-online-features', { json: { features, entities: { user_id: push.user_id } } });
    if (!ok(got)) return { ...result, mismatches: result.mismatches + 1, examples: [...result.examples, 'the push check read failed'] };
    push.user_id.forEach((u, row) => {
      result.pushed++;
      for (let f = 0; f < FEATURES; f++) {
        if (got.json.results[f + 1].values[row] !== push[`p${f}`][row]) {
          result.mismatches++;
          if (result.examples.length < 5) result.examples.push(`pushed user ${u}: p${f} ${got.json.results[f + 1].values[row]}, expected ${push[`p${f}`][row]}`);
          break;
        }
      }
    });
  }
  return result;
}

function summarizeLog(file) {
  const summary = { lines: 0, warnings: 0, errors: 0, examples: [] };
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line) continue;
    summary.lines++;
    let level = 30;
    try {
      level = JSON.parse(line).level;
    } catch {
      level = 50; // not JSON: something printed outside the logger
    }
    if (level >= 50) summary.errors++;
    else if (level >= 40) summary.warnings++;
    if (level >= 40 && summary.examples.length < 5) summary.examples.push(line.slice(0, 400));
  }
  return summary;
}

function totalErrors(reads, state) {
  let n = 0;
  for (let i = 0; i < reads.status.length; i++) if (reads.status[i] !== 200) n++; // every phase, the warm-up included
  for (const [kind, k] of Object.entries(calls)) if (kind !== 'check') n += k.non2xx + k.connErrors;
  return n + reads.anomalies.notPresent; // failed jobs are counted under 'job failed'
}

// ---------------------------------------------------------------------------------------------
// Report

function report({ reads, phases, samples, state, warmCycles, mixedStart, mixedEnd, lastCycleLate, check, metricsText, logSummary, serverAlive, serverExit }) {
  const PHASE = { 'reads only, before': 1, mixed: 2, 'reads only, after': 4 };
  const readStats = {};
  for (const [name, index] of Object.entries(PHASE)) {
    const seconds = (phases[name].end - phases[name].start) / 1000;
    readStats[name] = reads.kinds.map((_, kind) => stats(reads, (i) => reads.phase[i] === index && reads.kind[i] === kind, seconds));
    readStats[name].all = stats(reads, (i) => reads.phase[i] === index, seconds);
  }
  const mixedSeconds = (mixedEnd - mixedStart) / 1000;

  // Per minute of the mixed phase.
  console.log('\nper minute of the mixed phase:');
  console.log('| minute | reads/s | read p50 / p99 (ms) | read errors | pushes | push p99 (ms) | RSS median (MiB) | JS heap median (MiB) | server CPU / main thread (% of a core) | event-loop lag max (ms) | materializations finished |');
  console.log('|---|---|---|---|---|---|---|---|---|---|---|');
  const minutes = Math.max(1, Math.round(mixedSeconds / 60));
  for (let m = 0; m < minutes; m++) {
    const from = mixedStart + m * 60_000;
    const to = m === minutes - 1 ? mixedEnd : from + 60_000;
    const s = stats(reads, (i) => reads.phase[i] === 2 && reads.t[i] >= from && reads.t[i] < to, (to - from) / 1000);
    const inMinute = samples.filter((x) => x.t >= from && x.t < to);
    const pushMs = (calls.push?.times ?? []).filter((x) => x.t >= from && x.t < to).map((x) => x.ms);
    const finished = state.cycles.slice(warmCycles).filter((c) => c.finished >= from && c.finished < to).length;
    console.log(
      `| ${m + 1} | ${fmt(s.rps)} | ${s.p50.toFixed(2)} / ${s.p99.toFixed(2)} | ${s.errors} | ${pushMs.length} | ${pushMs.length ? pct(pushMs.sort((a, b) => a - b), 0.99).toFixed(1) : '-'} | ` +
        `${fmt(median(inMinute.map((x) => x.rss)) / MiB)} | ${inMinute.some((x) => x.heap) ? fmt(median(inMinute.filter((x) => x.heap).map((x) => x.heap)) / MiB) : '-'} | ` +
        `${fmt(median(inMinute.map((x) => x.cpu)))} / ${fmt(median(inMinute.map((x) => x.mainCpu)))} | ${lagOf(inMinute)} | ${finished} |`,
    );
  }

  // RSS over the mixed phase.
  const mixedSamples = samples.filter((x) => x.t >= mixedStart && x.t <= mixedEnd);
  const firstMinute = mixedSamples.filter((x) => x.t < mixedStart + 60_000).map((x) => x.rss);
  const lastMinute = mixedSamples.filter((x) => x.t >= mixedEnd - 60_000).map((x) => x.rss);
  const slope = leastSquares(mixedSamples.map((x) => [(x.t - mixedStart) / 60_000, x.rss / MiB]));
  const heapSlope = leastSquares(mixedSamples.filter((x) => x.heap).map((x) => [(x.t - mixedStart) / 60_000, x.heap / MiB]));
  const rssOf = (name) => median(samples.filter((x) => x.phase === name).map((x) => x.rss)) / MiB;
  const rss = {
    first: median(firstMinute) / MiB,
    last: median(lastMinute) / MiB,
    max: Math.max(...mixedSamples.map((x) => x.rss)) / MiB,
    slope,
    before: rssOf('reads only, before'),
    after: rssOf('reads only, after'),
  };
  const flat = Math.abs(rss.last / rss.first - 1) <= 0.1 || Math.abs(slope) < 0.01 * rss.first;

  // Materializations in the mixed phase.
  const cycles = state.cycles.slice(warmCycles);
  const succeeded = cycles.filter((c) => c.state === 'succeeded');
  const jobSeconds = succeeded.reduce((n, c) => n + c.jobMs / 1000, 0);
  const rowsOnline = succeeded.reduce((n, c) => n + c.rowsOnline, 0);
  const rowsOffline = succeeded.reduce((n, c) => n + c.rowsOffline, 0);
  const ingestMs = median(cycles.map((c) => c.ingestMs));

  const before = readStats['reads only, before'];
  const mixed = readStats.mixed;
  const after = readStats['reads only, after'];
  const pushMs = (calls.push?.times ?? []).filter((x) => x.t >= mixedStart && x.t < mixedEnd).map((x) => x.ms).sort((a, b) => a - b);
  const readErrors = (index) => {
    const byKind = reads.kinds.map(() => ({ non2xx: 0, conn: 0 }));
    for (let i = 0; i < reads.status.length; i++) {
      if (reads.status[i] === 200) continue;
      if (index !== undefined && reads.phase[i] !== index) continue;
      if (reads.status[i] === 0) byKind[reads.kind[i]].conn++;
      else byKind[reads.kind[i]].non2xx++;
    }
    return byKind;
  };
  const readErr = readErrors();

  console.log(`\nsoak: ${(mixedSeconds / 60).toFixed(1)} min mixed (reads, pushes, materializations at once), ${os.cpus().length} cores; reads only ${BASELINE_SECONDS} s before and after`);
  console.log('\n| | reads only (before) | mixed | ratio mixed / reads only | reads only (after) |');
  console.log('|---|---|---|---|---|');
  for (const [kind, name] of reads.kinds.entries()) {
    const b = before[kind];
    const m = mixed[kind];
    const a = after[kind];
    console.log(`| ${name} p50 / p99 (ms) | ${b.p50.toFixed(2)} / ${b.p99.toFixed(2)} | ${m.p50.toFixed(2)} / ${m.p99.toFixed(2)} | ${(m.p50 / b.p50).toFixed(2)}× / ${(m.p99 / b.p99).toFixed(2)}× | ${a.p50.toFixed(2)} / ${a.p99.toFixed(2)} |`);
  }
  console.log(
    `| reads/s (target ${RATE}) | ${fmt(before.all.rps)} | ${fmt(mixed.all.rps)} | ${(mixed.all.rps / before.all.rps).toFixed(2)}× | ${fmt(after.all.rps)} |`,
  );
  console.log(`| all reads p50 / p99 (ms) | ${before.all.p50.toFixed(2)} / ${before.all.p99.toFixed(2)} | ${mixed.all.p50.toFixed(2)} / ${mixed.all.p99.toFixed(2)} | ${(mixed.all.p50 / before.all.p50).toFixed(2)}× / ${(mixed.all.p99 / before.all.p99).toFixed(2)}× | ${after.all.p50.toFixed(2)} / ${after.all.p99.toFixed(2)} |`);
  console.log(`| server RSS median (MiB) | ${fmt(rss.before)} | ${fmt(median(mixedSamples.map((x) => x.rss)) / MiB)} | | ${fmt(rss.after)} |`);
  const of = (name) => samples.filter((x) => x.phase === name);
  console.log(`| server CPU / main thread, median (% of a core) | ${cpuOf(of('reads only, before'))} | ${cpuOf(mixedSamples)} | | ${cpuOf(of('reads only, after'))} |`);
  console.log(`| server event-loop lag, max (ms) | ${lagOf(of('reads only, before'))} | ${lagOf(mixedSamples)} | | ${lagOf(of('reads only, after'))} |`);
  console.log(`| machine busy, core 0 / core 1, median (%) | ${busyOf(of('reads only, before'))} | ${busyOf(mixedSamples)} | | ${busyOf(of('reads only, after'))} |`);
  console.log(`| read max (ms); reads over 1 s | ${fmt(before.all.max)}; ${before.all.over1s} | ${fmt(mixed.all.max)}; ${mixed.all.over1s} | | ${fmt(after.all.max)}; ${after.all.over1s} |`);
  console.log(`| scheduled reads not sent (over a second late) | ${reads.dropped[1].toLocaleString('en-US')} | ${reads.dropped[2].toLocaleString('en-US')} | | ${reads.dropped[4].toLocaleString('en-US')} |`);

  console.log('\n| figure | value |');
  console.log('|---|---|');
  console.log(`| mixed phase | ${(mixedSeconds / 60).toFixed(1)} min (the last materialization finished ${lastCycleLate.toFixed(0)} s after reads and pushes stopped) |`);
  const rows = [];
  for (const [kind, name] of reads.kinds.entries()) {
    const n = countWhere(reads, (i) => reads.phase[i] === 2 && reads.kind[i] === kind);
    const all = countWhere(reads, (i) => reads.kind[i] === kind);
    rows.push([name, `${n.toLocaleString('en-US')} in the mixed phase (${all.toLocaleString('en-US')} in all phases)`, readErr[kind].non2xx, readErr[kind].conn]);
  }
  for (const kind of ['push', 'ingest', 'materialize', 'job poll', 'job failed', 'metrics']) {
    const k = kindOf(kind);
    rows.push([kind === 'job failed' ? 'materialization jobs' : kind, k.requests.toLocaleString('en-US'), k.non2xx, k.connErrors]);
  }
  console.log('| requests per kind (non-2xx / connection errors) | ' + rows.map(([name, n, bad, conn]) => `${name} ${n} (${bad} / ${conn})`).join('; ') + ' |');
  console.log(`| read p50 mixed vs reads only | ${mixed.all.p50.toFixed(2)} vs ${before.all.p50.toFixed(2)} ms (${(mixed.all.p50 / before.all.p50).toFixed(2)}×) |`);
  console.log(`| read p99 mixed vs reads only | ${mixed.all.p99.toFixed(2)} vs ${before.all.p99.toFixed(2)} ms (${(mixed.all.p99 / before.all.p99).toFixed(2)}×) |`);
  console.log(`| reads/s mixed vs reads only | ${fmt(mixed.all.rps)} vs ${fmt(before.all.rps)} (${(mixed.all.rps / before.all.rps).toFixed(2)}×) |`);
  console.log(`| push p50 / p99 (${PUSH_ROWS} rows, mixed phase) | ${pct(pushMs, 0.5).toFixed(2)} / ${pct(pushMs, 0.99).toFixed(2)} ms (max ${pct(pushMs, 1).toFixed(0)} ms), ${pushMs.length.toLocaleString('en-US')} pushes (${(pushMs.length / mixedSeconds).toFixed(1)}/s) |`);
  console.log(
    `| materializations completed | ${succeeded.length} of ${cycles.length} (${BATCH.toLocaleString('en-US')} new rows each; job median ${(median(succeeded.map((c) => c.jobMs)) / 1000).toFixed(1)} s, ` +
      `ingest median ${(ingestMs / 1000).toFixed(1)} s) |`,
  );
  console.log(
    `| materialization rows/s | ${fmt(rowsOnline / jobSeconds)} online rows/s, ${fmt(rowsOffline / jobSeconds)} offline rows/s over the jobs' time (${rowsOnline.toLocaleString('en-US')} online, ${rowsOffline.toLocaleString('en-US')} offline rows) |`,
  );
  console.log(`| RSS first-minute median / last-minute median / max | ${fmt(rss.first)} / ${fmt(rss.last)} / ${fmt(rss.max)} MiB (last / first ${(rss.last / rss.first).toFixed(2)}×) |`);
  console.log(`| RSS slope (least squares, ${mixedSamples.length} samples every 5 s) | ${slope >= 0 ? '+' : ''}${slope.toFixed(1)} MiB/min; JS heap ${heapSlope >= 0 ? '+' : ''}${heapSlope.toFixed(1)} MiB/min |`);
  console.log(`| RSS flat? | ${flat ? 'yes' : 'NO'} |`);
  const between = cycles.filter((c) => c.rss !== null);
  const betweenSlope = leastSquares(between.map((c) => [(c.finished - mixedStart) / 60_000, c.rss / MiB]));
  console.log(
    `| RSS between jobs (at each job's end), first / last / max, slope | ${fmt(between[0]?.rss / MiB)} / ${fmt(between.at(-1)?.rss / MiB)} / ${fmt(Math.max(...between.map((c) => c.rss)) / MiB)} MiB, ` +
      `${betweenSlope >= 0 ? '+' : ''}${betweenSlope.toFixed(1)} MiB/min |`,
  );
  console.log(`| online data check | ${check.users} users' newest batch and ${check.pushed} pushed rows: ${check.mismatches} mismatches; ${reads.anomalies.checked.toLocaleString('en-US')} sampled 1×10 answers, ${reads.anomalies.notPresent} with a feature not PRESENT |`);

  // Where the tail is: latencies by what the materialization loop was doing when the request was sent.
  const stageOf = (t) => {
    const c = cycles.find((x) => t >= x.started && t < (x.finished ?? Infinity));
    if (!c) return 'neither';
    return t < c.submittedAt ? 'ingesting' : 'job running';
  };
  console.log('\nby what the materialization loop was doing (mixed phase):');
  console.log('| | share of time | reads | read p50 / p99 (ms) | pushes | push p50 / p99 (ms) |');
  console.log('|---|---|---|---|---|---|');
  for (const stage of ['ingesting', 'job running', 'neither']) {
    const time = (x) => stageOf(x) === stage;
    let stageMs = 0;
    for (let t = mixedStart; t < mixedEnd; t += 100) if (time(t)) stageMs += 100;
    const r = stats(reads, (i) => reads.phase[i] === 2 && time(reads.t[i]), 1);
    const p = (calls.push?.times ?? []).filter((x) => x.t >= mixedStart && x.t < mixedEnd && time(x.t)).map((x) => x.ms).sort((a, b) => a - b);
    console.log(`| ${stage} | ${((100 * stageMs) / (mixedEnd - mixedStart)).toFixed(0)}% | ${r.n.toLocaleString('en-US')} | ${r.p50.toFixed(2)} / ${r.p99.toFixed(2)} | ${p.length} | ${p.length ? `${pct(p, 0.5).toFixed(1)} / ${pct(p, 0.99).toFixed(1)}` : '-'} |`);
  }

  console.log('\nmaterialization cycles (mixed phase):');
  console.log('| batch | state | ingest (s) | job (s) | source rows | new rows | offline rows written | online rows written | RSS at the end (MiB) |');
  console.log('|---|---|---|---|---|---|---|---|---|');
  for (const c of cycles) {
    console.log(`| ${c.batch} | ${c.state} | ${(c.ingestMs / 1000).toFixed(1)} | ${c.jobMs === null ? '-' : (c.jobMs / 1000).toFixed(1)} | ${c.sourceRows.toLocaleString('en-US')} | ${c.rowsNew.toLocaleString('en-US')} | ${c.rowsOffline.toLocaleString('en-US')} | ${c.rowsOnline.toLocaleString('en-US')} | ${fmt(c.rss / MiB)} |`);
  }

  // From the server itself.
  const text = ok(metricsText) ? metricsText.json : '';
  const redisErrors = sumMetric(text, 'featurelake_redis_errors_total');
  const server5xx = sumMetric(text, 'featurelake_http_request_duration_seconds_count', (labels) => /status="5/.test(labels));
  const server4xx = sumMetric(text, 'featurelake_http_request_duration_seconds_count', (labels) => /status="4/.test(labels));
  console.log(
    `\nserver: ${serverAlive ? 'alive' : `EXITED ${JSON.stringify(serverExit)}`}; /metrics: featurelake_redis_errors_total ${redisErrors}, responses 5xx ${server5xx}, 4xx ${server4xx}; ` +
      `log: ${logSummary.lines} lines, ${logSummary.warnings} warnings, ${logSummary.errors} errors`,
  );
  for (const example of logSummary.examples) console.log(`  log: ${example}`);
  for (const [message, n] of Object.entries(reads.errorMessages)) console.log(`  read error ×${n}: ${message}`);
  for (const [kind, k] of Object.entries(calls)) for (const [message, n] of Object.entries(k.messages)) console.log(`  ${kind} error ×${n}: ${message}`);
  for (const example of reads.anomalies.examples) console.log(`  not PRESENT: ${example}`);
  for (const example of check.examples) console.log(`  data check: ${example}`);
}

/** Reads beside the hostile client, next to the reads-only phase just before it. */
function reportHostile(reads, phases, samples, outcomes, served413) {
  const of = (name, index) => {
    const seconds = (phases[name].end - phases[name].start) / 1000;
    return { all: stats(reads, (i) => reads.phase[i] === index, seconds), samples: samples.filter((x) => x.phase === name) };
  };
  const quiet = of('reads only, after', 4);
  const hostile = of('reads + hostile', 5);
  console.log(`
reads beside a hostile client (${BASELINE_SECONDS} s each):`);
  console.log('| | reads only (after) | reads + hostile | ratio |');
  console.log('|---|---|---|---|');
  console.log(`| all reads p50 / p99 (ms) | ${quiet.all.p50.toFixed(2)} / ${quiet.all.p99.toFixed(2)} | ${hostile.all.p50.toFixed(2)} / ${hostile.all.p99.toFixed(2)} | ${(hostile.all.p50 / quiet.all.p50).toFixed(2)}× / ${(hostile.all.p99 / quiet.all.p99).toFixed(2)}× |`);
  console.log(`| reads/s (target ${RATE}); read errors | ${fmt(quiet.all.rps)}; ${quiet.all.errors} | ${fmt(hostile.all.rps)}; ${hostile.all.errors} | ${(hostile.all.rps / quiet.all.rps).toFixed(2)}× |`);
  console.log(`| read max (ms) | ${fmt(quiet.all.max)} | ${fmt(hostile.all.max)} | |`);
  console.log(`| server RSS median / max (MiB) | ${fmt(median(quiet.samples.map((x) => x.rss)) / MiB)} / ${fmt(Math.max(...quiet.samples.map((x) => x.rss)) / MiB)} | ${fmt(median(hostile.samples.map((x) => x.rss)) / MiB)} / ${fmt(Math.max(...hostile.samples.map((x) => x.rss)) / MiB)} | |`);
  console.log(`| server event-loop lag, max (ms) | ${lagOf(quiet.samples)} | ${lagOf(hostile.samples)} | |`);
  printHostile(outcomes, served413);
}

function busyOf(samples) {
  return samples.length ? samples[0].busy.map((_, core) => fmt(median(samples.map((x) => x.busy[core])))).join(' / ') : '-';
}

function cpuOf(samples) {
  return samples.length ? `${fmt(median(samples.map((x) => x.cpu)))} / ${fmt(median(samples.map((x) => x.mainCpu)))}` : '-';
}

function lagOf(samples) {
  const lags = samples.filter((x) => x.lagMax !== null).map((x) => x.lagMax * 1000);
  return lags.length ? fmt(Math.max(...lags)) : '-';
}

function stats(reads, select, seconds) {
  const ms = [];
  let errors = 0;
  for (let i = 0; i < reads.ms.length; i++) {
    if (!select(i)) continue;
    if (reads.status[i] === 200) ms.push(reads.ms[i]);
    else errors++;
  }
  ms.sort((a, b) => a - b);
  return { n: ms.length + errors, rps: (ms.length + errors) / seconds, p50: pct(ms, 0.5), p99: pct(ms, 0.99), max: pct(ms, 1), over1s: ms.length - lowerBound(ms, 1000), errors };
}

function countWhere(reads, select) {
  let n = 0;
  for (let i = 0; i < reads.ms.length; i++) if (select(i)) n++;
  return n;
}

function lowerBound(sorted, value) {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid] < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Nearest-rank percentile of sorted values. */
function pct(sorted, q) {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

function median(values) {
  return pct([...values].sort((a, b) => a - b), 0.5);
}

/** Slope of the least-squares line through [x, y] points. */
function leastSquares(points) {
  const n = points.length;
  if (n < 2) return 0;
  const mx = points.reduce((s, [x]) => s + x, 0) / n;
  const my = points.reduce((s, [, y]) => s + y, 0) / n;
  const sxy = points.reduce((s, [x, y]) => s + (x - mx) * (y - my), 0);
  const sxx = points.reduce((s, [x]) => s + (x - mx) ** 2, 0);
  return sxx === 0 ? 0 : sxy / sxx;
}

const TICKS = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

/** utime + stime of the process and of its main thread, in clock ticks. */
function cpuTicks(pid) {
  const ticks = (file) => {
    const fields = readFileSync(file, 'utf8').split(') ')[1].split(' ');
    return Number(fields[11]) + Number(fields[12]); // fields 14 and 15 of stat(5), counted after the command name
  };
  try {
    return { at: Date.now(), process: ticks(`/proc/${pid}/stat`), main: ticks(`/proc/${pid}/task/${pid}/stat`) };
  } catch {
    return null;
  }
}

/** Busy and total jiffies of each core, from /proc/stat. */
function coreTicks() {
  return readFileSync('/proc/stat', 'utf8')
    .split('\n')
    .filter((line) => /^cpu\d+ /.test(line))
    .map((line) => {
      const [user, nice, system, idle, iowait, irq, softirq, steal] = line.split(/\s+/).slice(1).map(Number);
      return { busy: user + nice + system + irq + softirq + steal, total: user + nice + system + idle + iowait + irq + softirq + steal };
    });
}

function vmRss(pid) {
  try {
    return Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) * 1024;
  } catch {
    return null;
  }
}

function metric(text, name) {
  const match = new RegExp(`^${name}(?:\\{[^}]*\\})? ([\\d.e+-]+)$`, 'm').exec(typeof text === 'string' ? text : '');
  return match ? Number(match[1]) : null;
}

function sumMetric(text, name, where = () => true) {
  let sum = 0;
  for (const match of text.matchAll(new RegExp(`^${name}(\\{[^}]*\\})? ([\\d.e+-]+)$`, 'gm'))) if (where(match[1] ?? '')) sum += Number(match[2]);
  return sum;
}

function printCycle(c, mixedStart) {
  console.log(
    `  ${fmtClock(c.finished - mixedStart)} batch ${c.batch}: ${c.state}, ingest ${(c.ingestMs / 1000).toFixed(1)} s, job ${c.jobMs === null ? '-' : (c.jobMs / 1000).toFixed(1)} s, ` +
      `${c.rowsOffline.toLocaleString('en-US')} offline / ${c.rowsOnline.toLocaleString('en-US')} online rows`,
  );
}

function fmtClock(ms) {
  const s = Math.round(ms / 1000);
  return `${String(Math.floor(s / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
}

function fmt(n) {
  return Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '-';
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
