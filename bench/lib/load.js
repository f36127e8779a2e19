'use strict';
/** Load generators: wrk for peak throughput, a fixed-rate open-loop client for latency at a given rate. */
const { spawnSync } = require('node:child_process');
const { writeFileSync } = require('node:fs');
const http = require('node:http');
const os = require('node:os');
const path = require('node:path');

/** wrk closed-loop run; returns requests/s and p50/p99 latency in ms. */
function wrk(url, body, { connections = 50, seconds = 5, threads = 1 } = {}) {
  const script = path.join(os.tmpdir(), `fl-wrk-${process.pid}.lua`);
  writeFileSync(script, `wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\nwrk.body = [[${JSON.stringify(body)}]]\n`);
  const out = spawnSync('wrk', ['-t', String(threads), '-c', String(connections), '-d', `${seconds}s`, '--latency', '-s', script, url], { encoding: 'utf8' });
  if (out.status !== 0) throw new Error(`wrk failed: ${out.stderr}`);
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out.stdout)[1]);
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(out.stdout);
  if (non2xx) throw new Error(`wrk saw ${non2xx[1]} error responses from ${url}`);
  return { rps, p50: ms(/50%\s+([\d.]+\w+)/.exec(out.stdout)[1]), p99: ms(/99%\s+([\d.]+\w+)/.exec(out.stdout)[1]) };
}

function ms(text) {
  const value = parseFloat(text);
  if (text.endsWith('us')) return value / 1000;
  if (text.endsWith('ms')) return value;
  if (text.endsWith('s')) return value * 1000;
  return value;
}

/**
 * Sends `rate` requests per second for `seconds` (open loop: a slow answer does not slow the
 * sender, so queueing shows up in the latencies) over keep-alive connections; returns p50/p99 ms.
 */
async function fixedRate(url, body, { rate, seconds = 10 }) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  const payload = JSON.stringify(body);
  const { hostname, port, pathname } = new URL(url);
  const latencies = [];
  let errors = 0;
  const total = Math.round(rate * seconds);
  const started = process.hrtime.bigint();
  const pending = [];
  const send = () =>
    new Promise((resolve) => {
      const sent = process.hrtime.bigint();
      const req = http.request({ hostname, port, path: pathname, method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } }, (res) => {
        res.resume();
        res.on('end', () => {
          if (res.statusCode !== 200) errors++;
          latencies.push(Number(process.hrtime.bigint() - sent) / 1e6);
          resolve();
        });
      });
      req.on('error', () => {
        errors++;
        resolve();
      });
      req.end(payload);
    });
  // A 1 ms tick sends every request that is due: little CPU for the sender, which shares the
  // machine with the server under test.
  await new Promise((resolve) => {
    const timer = setInterval(() => {
      const elapsed = Number(process.hrtime.bigint() - started) / 1e9;
      const due = Math.min(total, Math.floor(elapsed * rate));
      while (pending.length < due) pending.push(send());
      if (pending.length >= total) {
        clearInterval(timer);
        resolve();
      }
    }, 1);
  });
  await Promise.all(pending);
  agent.destroy();
  const achieved = total / (Number(process.hrtime.bigint() - started) / 1e9);
  latencies.sort((a, b) => a - b);
  const at = (q) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))];
  return { rate, achieved, p50: at(0.5), p99: at(0.99), errors };
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

module.exports = { wrk, fixedRate, median };
