#!/usr/bin/env node
'use strict';
/**
 * Compaction of many small files: `--files` Parquet files of `--rows` rows each, ingested as one
 * snapshot (`featurelake ingest events f1 … fN`), then `featurelake datasets compact events`
 * (its own time: the command's wall time minus a no-op command's, both measured here). Baseline
 * in the same run: DuckDB alone merging the same files into one (`COPY (SELECT * FROM
 * read_parquet([…]) ORDER BY filename, file_row_number) TO …`), the least any compaction does.
 * Rounds re-ingest the files into a fresh dataset each time.
 *
 * Usage: npm run build && node bench/compaction.js [--files 1000] [--rows 1000] [--rounds 3]
 */
const { mkdirSync, mkdtempSync, rmSync, writeFileSync } = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { DuckDBInstance } = require('@duckdb/node-api');
const { featurelake } = require('./lib/processes');
const { median } = require('./lib/load');

const args = process.argv.slice(2);
const option = (name, fallback) => (args.includes(`--${name}`) ? Number(args[args.indexOf(`--${name}`) + 1]) : fallback);
const FILES = option('files', 1000);
const ROWS = option('rows', 1000);
const ROUNDS = option('rounds', 3);

async function main() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'fl-bench-compact-'));
  try {
    const repo = path.join(dir, 'repo');
    mkdirSync(repo);
    const datasets = Array.from({ length: ROUNDS }, (_, i) => `  - name: events_${i}\n    timestamp_field: ts`).join('\n');
    writeFileSync(path.join(repo, 'featurelake.yaml'), `project: bench\nlake:\n  uri: file://${dir}/lake\nstate_dir: ${dir}/state\n`);
    writeFileSync(path.join(repo, 'datasets.yaml'), `datasets:\n${datasets}\n`);
    featurelake(repo, {}, 'apply');
    const files = await writeFiles(path.join(dir, 'in'));
    console.log(`machine: ${os.cpus().length} × ${os.cpus()[0].model}, Node ${process.version}`);
    console.log(`${FILES.toLocaleString('en-US')} files of ${ROWS.toLocaleString('en-US')} rows, one snapshot; compacted into one\n`);
    const ours = [];
    const baseline = [];
    for (let round = 0; round < ROUNDS; round++) {
      featurelake(repo, {}, 'ingest', `events_${round}`, ...files);
      const noop = timed(() => featurelake(repo, {}, 'datasets', 'describe', `events_${round}`));
      const compact = timed(() => featurelake(repo, {}, 'datasets', 'compact', `events_${round}`));
      if (!/^Compacted /.test(compact.out)) throw new Error(`compaction did not run: ${compact.out}`);
      ours.push(compact.seconds - noop.seconds);
      baseline.push(await duckdbMerge(files, path.join(dir, `merged-${round}.parquet`)));
      console.log(`round ${round + 1}: featurelake ${ours.at(-1).toFixed(2)} s | DuckDB merge alone ${baseline.at(-1).toFixed(2)} s`);
    }
    const [a, b] = [median(ours), median(baseline)];
    console.log(`\nmedian: featurelake ${a.toFixed(2)} s | DuckDB alone ${b.toFixed(2)} s | ratio ${(a / b).toFixed(2)}×`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function timed(run) {
  const started = process.hrtime.bigint();
  const out = run();
  return { out, seconds: Number(process.hrtime.bigint() - started) / 1e9 };
}

async function writeFiles(folder) {
  mkdirSync(folder);
  const connection = await (await DuckDBInstance.create(':memory:')).connect();
  const files = [];
  for (let i = 0; i < FILES; i++) {
    const file = path.join(folder, `f${i}.parquet`);
    await connection.run(`COPY (SELECT TIMESTAMP '2026-01-01' + to_seconds(${i} * ${ROWS} + range) AS ts, range AS user_id, random() AS value FROM range(${ROWS})) TO '${file}' (FORMAT parquet)`);
    files.push(file);
  }
  connection.closeSync();
  return files;
}

async function duckdbMerge(files, target) {
  const connection = await (await DuckDBInstance.create(':memory:')).connect();
  const started = process.hrtime.bigint();
  const list = `[${files.map((f) => `'${f}'`).join(', ')}]`;
  await connection.run(`COPY (SELECT * EXCLUDE (filename, file_row_number) FROM read_parquet(${list}, filename = true, file_row_number = true) ORDER BY list_position(${list}, filename), file_row_number) TO '${target}' (FORMAT parquet, COMPRESSION zstd)`);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  connection.closeSync();
  return seconds;
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
