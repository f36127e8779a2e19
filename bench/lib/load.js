'use strict';
/** Load generators: wrk for peak throughput, hey for latency at a fixed rate. Both run on core 1 (see processes.js). */
const { spawnSync } = require('node:child_process');
const { writeFileSync } = require('node:fs');
const { pinned } = require('./processes');
const os = require('node:os');
const path = require('node:path');

/** wrk closed-loop run; returns requests/s and p50/p99 latency in ms. */
function wrk(url, body, { connections = 50, seconds = 5, threads = 1 } = {}) {
  const script = path.join(os.tmpdir(), `fl-wrk-${process.pid}.lua`);
  writeFileSync(script, `wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\nwrk.body = [[${JSON.stringify(body)}]]\n`);
  const [command, args] = pinned(1, 'wrk', ['-t', String(threads), '-c', String(connections), '-d', `${seconds}s`, '--latency', '-s', script, url]);
  const out = spawnSync(command, args, { encoding: 'utf8' });
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
 * `rate` requests per second for `seconds` with hey (4 workers, each rate-limited to rate/4):
 * latency percentiles at a fixed load rather than at saturation. Returns p50/p99 in ms.
 */
function fixedRate(url, body, { rate, seconds = 10, workers = 4 }) {
  const [command, args] = pinned(1, 'hey', ['-z', `${seconds}s`, '-c', String(workers), '-q', String(Math.max(1, Math.round(rate / workers))), '-m', 'POST', '-T', 'application/json', '-d', JSON.stringify(body), url]);
  const out = spawnSync(command, args, { encoding: 'utf8' });
  if (out.status !== 0) throw new Error(`hey failed: ${out.stderr}`);
  const seconds_ = (q) => Number(new RegExp(`${q}% in ([\\d.]+) secs`).exec(out.stdout)[1]) * 1000;
  const statuses = [...out.stdout.matchAll(/\[(\d+)\]\s+(\d+) responses/g)];
  const errors = statuses.filter(([, code]) => code !== '200').reduce((n, [, , count]) => n + Number(count), 0);
  return { rate, achieved: Number(/Requests\/sec:\s+([\d.]+)/.exec(out.stdout)[1]), p50: seconds_(50), p99: seconds_(99), errors };
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

module.exports = { wrk, fixedRate, median };
