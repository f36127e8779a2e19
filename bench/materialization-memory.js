#!/usr/bin/env node
'use strict';
/**
 * Benchmark 3: peak RSS of `featurelake materialize-incremental` (the whole process: Node and
 * DuckDB) as the view grows from 1M to 10M rows (one row per entity, so every row also goes to
 * Redis). Rows flow from DuckDB to Redis in bounded batches and pending entities are read a
 * hash partition at a time, so the peak should not grow with the row count. To prove the
 * bounds rather than hope for them, the process runs with its JS heap capped
 * (--max-old-space-size=256) and DuckDB's memory limit at 512MB: it would fail, not swell, if
 * either were exceeded. The baseline in the same run: the same process only starting and
 * stopping (`plan`).
 *
 * Usage: npm run build && node bench/materialization-memory.js [--sizes 1000000,10000000]
 */
const { mkdtempSync, readFileSync, rmSync } = require('node:fs');
const { spawn } = require('node:child_process');
const os = require('node:os');
const path = require('node:path');
const Redis = require('ioredis');
const { BIN, startRedis, featurelake, stop } = require('./lib/processes');
const { writeRepo, writeEvents } = require('./lib/bench-repo');

const args = process.argv.slice(2);
const SIZES = (args.includes('--sizes') ? args[args.indexOf('--sizes') + 1] : '1000000,10000000').split(',').map(Number);

async function main() {
  console.log(`machine: ${os.cpus().length} × ${os.cpus()[0].model}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}\n`);
  for (const rows of SIZES) {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'fl-bench-rss-'));
    const redis = await startRedis();
    try {
      const repo = writeRepo(dir, { redisUrl: redis.url });
      await writeEvents(path.join(dir, 'events.parquet'), rows);
      featurelake(repo, {}, 'apply');
      featurelake(repo, {}, 'ingest', 'events', path.join(dir, 'events.parquet'));
      const idle = await peakRss(repo, ['plan']);
      const started = Date.now();
      const run = await peakRss(repo, ['materialize-incremental', new Date().toISOString(), '--views', 'v1']);
      const seconds = (Date.now() - started) / 1000;
      const client = new Redis(redis.url);
      const keys = await client.dbsize();
      client.disconnect();
      if (keys !== rows) throw new Error(`expected ${rows} keys in Redis, found ${keys}`);
      console.log(
        `${rows.toLocaleString('en-US').padStart(11)} rows: peak RSS ${mib(run)} MiB (process baseline ${mib(idle)} MiB, ratio ${(run / idle).toFixed(2)}×), ` +
          `${seconds.toFixed(1)} s, ${Math.round(rows / seconds).toLocaleString('en-US')} rows/s`,
      );
    } finally {
      await stop(redis.child);
      rmSync(dir, { recursive: true, force: true });
    }
  }
}

/** Runs the CLI and returns its peak resident set size in bytes (the kernel's VmHWM, sampled until exit). */
function peakRss(repo, command) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--max-old-space-size=256', BIN, '--repo', repo, ...command], {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, FEATURELAKE_DUCKDB_MEMORY_LIMIT: '512MB' },
    });
    let peak = 0;
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const sample = () => {
      try {
        const kb = Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))[1]);
        peak = Math.max(peak, kb * 1024);
      } catch {
        // the process has exited
      }
    };
    const timer = setInterval(sample, 50);
    child.on('exit', (code) => {
      clearInterval(timer);
      if (code !== 0) reject(new Error(`featurelake ${command[0]} failed: ${stderr}`));
      else resolve(peak);
    });
  });
}

function mib(bytes) {
  return Math.round(bytes / 2 ** 20).toLocaleString('en-US');
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
