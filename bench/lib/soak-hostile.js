'use strict';
/**
 * The soak's hostile client (bench/soak.js, phase "reads + hostile"): one connection at a time,
 * back to back, the requests built to hurt a server — each must be refused with a 4xx and a
 * stable code while online reads go on beside it:
 *  - 64 MiB of `[{},{},…]` (21 million JSON values) to /get-online-features;
 *  - a spine bomb: every row of the `events` dataset as entity rows (over limits.max_entity_rows);
 *  - a decompression bomb: a small zstd Parquet file that declares ~300 MB unpacked (over
 *    limits.max_ingest_bytes), uploaded to /datasets/events/files;
 *  - 100,000 levels of nesting.
 * Anything else than the expected 4xx counts as an error of the run — except, for the 64 MiB
 * body, the connection closing under a client still sending (EPIPE/ECONNRESET): the server stops
 * reading at the limit and closes after its answer, which a client mid-write may not get to read.
 * Those are reported apart, and the server's own count of 413s is shown as the witness.
 */
const http = require('node:http');
const { readFileSync } = require('node:fs');
const { performance } = require('node:perf_hooks');

/** The limits the soak repo sets so that the bombs are refused (see writeSoakRepo). */
const HOSTILE_LIMITS = 'limits:\n  max_entity_rows: 100000\n  max_ingest_bytes: 256MiB\n';

/** Writes the decompression bomb with the soak's DuckDB connection: 300,000 distinct 1,000-character strings of zeros. */
async function writeBomb(c, file) {
  await c.run(`COPY (SELECT 1::BIGINT AS user_id, TIMESTAMP '2026-01-01' AS ts, lpad(range::VARCHAR, 1000, '0') AS f0 FROM range(300000)) TO '${file}' (FORMAT parquet, COMPRESSION zstd)`);
}

function send(base, path, type, body) {
  return new Promise((resolve) => {
    const started = performance.now();
    let answered = false;
    const req = http.request(`${base}${path}`, { method: 'POST', agent: false, headers: { 'content-type': type } }, (res) => {
      answered = true;
      let text = '';
      res.on('data', (d) => (text += d.length < 4096 ? d.toString() : ''));
      const done = () => {
        let code;
        try {
          code = JSON.parse(text).code;
        } catch {
          code = undefined;
        }
        resolve({ status: res.statusCode, code, ms: performance.now() - started });
      };
      res.on('end', done);
      res.on('error', done);
    });
    req.on('error', (error) => (answered ? undefined : resolve({ status: 0, code: error.code ?? error.message, ms: performance.now() - started })));
    if (typeof body === 'function') {
      const chunks = body();
      const pump = () => {
        for (let next = chunks.next(); !next.done; next = chunks.next()) if (!req.write(next.value)) return void req.once('drain', pump);
        req.end();
      };
      pump();
    } else req.end(body);
  });
}

function* emptyObjects() {
  const chunk = Buffer.from('{},'.repeat(21_845));
  yield Buffer.from('[');
  for (let sent = 0; sent < 64 * 2 ** 20; sent += chunk.length) yield chunk;
  yield Buffer.from('{}]');
}

const REQUESTS = [
  { name: '64 MiB of [{},{},…]', path: '/get-online-features', type: 'application/json', body: () => emptyObjects, expect: [413, 'JSON_LIMIT_EXCEEDED'], closesEarly: true },
  {
    name: 'spine bomb (all of events)',
    path: '/get-historical-features?format=parquet',
    type: 'application/json',
    body: () => JSON.stringify({ feature_service: 'fs10', entity_dataset: { name: 'events' } }),
    expect: [413, 'ROW_LIMIT_EXCEEDED'],
  },
  { name: 'decompression bomb', path: '/datasets/events/files', type: 'application/vnd.apache.parquet', body: (bomb) => bomb, expect: [413, 'SIZE_LIMIT_EXCEEDED'] },
  { name: '100,000-deep nesting', path: '/get-online-features', type: 'application/json', body: () => `{"entities": ${'['.repeat(100_000)}${']'.repeat(100_000)}}`, expect: [400, 'MALFORMED_JSON'] },
];

/** Sends the hostile requests in turn until `state.stopping`; returns per request: count, refused as expected, other answers, latencies. */
async function hostileLoop(base, bombFile, state) {
  const bomb = readFileSync(bombFile);
  const outcomes = REQUESTS.map((r) => ({ name: r.name, sent: 0, expected: 0, closed: 0, other: {}, ms: [] }));
  while (!state.stopping) {
    for (const [i, r] of REQUESTS.entries()) {
      if (state.stopping) break;
      const answer = await send(base, r.path, r.type, r.body(bomb));
      const o = outcomes[i];
      o.sent++;
      o.ms.push(answer.ms);
      if (answer.status === r.expect[0] && answer.code === r.expect[1]) o.expected++;
      else if (r.closesEarly && answer.status === 0 && /^(EPIPE|ECONNRESET)$/.test(answer.code)) o.closed++;
      else o.other[`${answer.status} ${answer.code}`] = (o.other[`${answer.status} ${answer.code}`] ?? 0) + 1;
    }
  }
  return outcomes;
}

function hostileErrors(outcomes) {
  return outcomes.reduce((n, o) => n + Object.values(o.other).reduce((a, b) => a + b, 0), 0);
}

function printHostile(outcomes, served413) {
  console.log('\nthe hostile client (phase "reads + hostile"):');
  console.log('| request | sent | refused as expected | closed while still sending | other answers | time to refusal p50 / max (ms) |');
  console.log('|---|---|---|---|---|---|');
  for (const o of outcomes) {
    const ms = [...o.ms].sort((a, b) => a - b);
    const other = Object.entries(o.other).map(([k, n]) => `${k} ×${n}`).join(', ') || 'none';
    console.log(`| ${o.name} | ${o.sent} | ${o.expected} | ${o.closed} | ${other} | ${ms.length ? `${ms[Math.floor(ms.length / 2)].toFixed(0)} / ${ms[ms.length - 1].toFixed(0)}` : '-'} |`);
  }
  console.log(`(the server's own count of 413 answers on /get-online-features over the whole run: ${served413})`);
}

module.exports = { HOSTILE_LIMITS, writeBomb, hostileLoop, hostileErrors, printHostile };
