'use strict';
/**
 * The soak benchmark's read load (bench/soak.js), in its own process so that the driver's work
 * (pushes, batch files, polling) does not delay it. `connections` keep-alive connections, each
 * sending one request at a time on a fixed schedule of rate/connections requests per second (a
 * request that falls behind is sent as soon as the previous answer arrives, so the rate holds
 * unless the server cannot keep up for more than a second), alternating 1 × 10 (fs10) and 1 × 50 (fs50)
 * requests for random users. Every request is recorded (time, kind, latency, status; status 0 =
 * connection error or timeout) and sent to the parent when it says stop. One in SAMPLE 1 × 10
 * answers is parsed and checked: every feature PRESENT.
 *
 * Run by soak.js with child_process.fork(…, { serialization: 'advanced' }) and
 * argv[2] = JSON { url, users, rate, connections, timeoutMs }.
 */
const http = require('node:http');
const { performance } = require('node:perf_hooks');

const config = JSON.parse(process.argv[2]);
const KINDS = [
  { name: 'read 1×10', service: 'fs10' },
  { name: 'read 1×50', service: 'fs50' },
];
const SAMPLE = 100;
const url = new URL(`${config.url}/get-online-features`);
const agent = new http.Agent({ keepAlive: true, maxSockets: config.connections });

/** Columnar, growable record of every request. */
const log = {
  n: 0,
  t: new Float64Array(1 << 16), // ms since the epoch at send
  ms: new Float32Array(1 << 16), // latency
  kind: new Uint8Array(1 << 16),
  status: new Uint16Array(1 << 16),
  phase: new Uint8Array(1 << 16),
};
const errorMessages = {};
const anomalies = { checked: 0, notPresent: 0, examples: [] };
const dropped = [0, 0, 0, 0, 0, 0]; // scheduled requests never sent (more than a second late), per phase
let checks = 0;
let phase = 0; // set by the parent: 0 = warm-up (not counted), 1 = reads only, 2 = mixed
let running = true;

function record(t, ms, kind, status) {
  if (log.n === log.t.length) {
    for (const key of ['t', 'ms', 'kind', 'status', 'phase']) {
      const bigger = new log[key].constructor(log[key].length * 2);
      bigger.set(log[key]);
      log[key] = bigger;
    }
  }
  const i = log.n++;
  log.t[i] = t;
  log.ms[i] = ms;
  log.kind[i] = kind;
  log.status[i] = status;
  log.phase[i] = phase;
}

function request(kind, user, check) {
  return new Promise((resolve) => {
    const body = JSON.stringify({ feature_service: KINDS[kind].service, entities: { user_id: [user] } });
    const sentAt = performance.timeOrigin + performance.now();
    const started = performance.now();
    let done = false;
    const finish = (status, text, message) => {
      if (done) return;
      done = true;
      record(sentAt, performance.now() - started, kind, status);
      if (message) errorMessages[message] = (errorMessages[message] ?? 0) + 1;
      if (status === 200 && check) inspect(text);
      resolve();
    };
    const req = http.request(
      url,
      { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }, timeout: config.timeoutMs },
      (res) => {
        const chunks = check || res.statusCode !== 200 ? [] : null;
        res.on('data', (chunk) => chunks?.push(chunk));
        res.on('end', () => {
          const text = chunks ? Buffer.concat(chunks).toString() : '';
          finish(res.statusCode, text, res.statusCode === 200 ? null : `HTTP ${res.statusCode}: ${text.slice(0, 200)}`);
        });
        res.on('error', (error) => finish(0, '', `response: ${error.code ?? error.message}`));
      },
    );
    req.on('timeout', () => req.destroy(new Error(`timeout after ${config.timeoutMs} ms`)));
    req.on('error', (error) => finish(0, '', `request: ${error.code ?? error.message}`));
    req.end(body);
  });
}

function inspect(text) {
  anomalies.checked++;
  const answer = JSON.parse(text);
  const statuses = answer.results.slice(1).flatMap((r) => r.statuses);
  if (statuses.some((s) => s !== 'PRESENT')) {
    anomalies.notPresent++;
    if (anomalies.examples.length < 5) anomalies.examples.push(text.slice(0, 300));
  }
}

async function worker(index) {
  const interval = (1000 * config.connections) / config.rate;
  let next = performance.now() + (interval * index) / config.connections;
  let count = index;
  while (running) {
    const wait = next - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    if (!running) break;
    const kind = count++ % 2;
    await request(kind, Math.floor(Math.random() * config.users), kind === 0 && ++checks % SAMPLE === 0);
    // A late request is sent at once and the schedule kept (a fixed arrival rate, not one slowed
    // by the server's latency); only ticks missed by more than a second are dropped.
    next += interval;
    const now = performance.now();
    if (now - next > 1000) {
      dropped[phase] += Math.floor((now - next) / interval);
      next = now + Math.random() * interval; // a fresh random phase, or the connections would go on in lockstep
    }
  }
}

process.on('message', (message) => {
  if (message.phase !== undefined) phase = message.phase;
  if (message.stop) running = false;
});

const workers = Array.from({ length: config.connections }, (_, i) => worker(i));
process.send({ ready: true });
Promise.all(workers).then(() => {
  const n = log.n;
  process.send(
    {
      kinds: KINDS.map((k) => k.name),
      t: log.t.slice(0, n),
      ms: log.ms.slice(0, n),
      kind: log.kind.slice(0, n),
      status: log.status.slice(0, n),
      phase: log.phase.slice(0, n),
      errorMessages,
      anomalies,
      dropped,
    },
    () => process.exit(0),
  );
});
