#!/usr/bin/env node
'use strict';
/**
 * The cost of checking expectations at ingest: the same 3M-row file (vega-datasets flights-3m,
 * Parquet) ingested into a dataset without expectations and into one with the rules of issue 13's
 * example on its columns (not_null, min/max, regex, allowed, max_length, max_null_rate, unique over
 * three columns, rows), `on_violation: warn` so that every round checks every rule in full.
 * Rounds alternate the two; each figure is the ingest's own time from the CLI's output. Both
 * ingests profile what they commit (per column values, nulls, min, max, distinct estimate).
 *
 * Usage: npm run build && node bench/expectations.js [--rounds 3]
 */
const { mkdtempSync, rmSync, writeFileSync } = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { featurelake } = require('./lib/processes');
const { median } = require('./lib/load');

const args = process.argv.slice(2);
const ROUNDS = args.includes('--rounds') ? Number(args[args.indexOf('--rounds') + 1]) : 3;
const FLIGHTS = path.join(__dirname, '../node_modules/vega-datasets/data/flights-3m.parquet');

const DEFINITIONS = `datasets:
  - name: plain
    timestamp_field: date
  - name: checked
    timestamp_field: date
    expectations:
      on_violation: warn
      columns:
        delay:       { not_null: true, min: -1000, max: 10000, max_null_rate: 0.01 }
        distance:    { not_null: true, min: 0 }
        origin:      { not_null: true, regex: '^[A-Z]{3}$', max_length: 3 }
        destination: { not_null: true, regex: '^[A-Z]{3}$', allowed: [${airports()}] }
      unique: [date, origin, destination]
      rows: { min: 1 }
`;

async function copyToCsv(target) {
  const { DuckDBInstance } = require('@duckdb/node-api');
  const connection = await (await DuckDBInstance.create(':memory:')).connect();
  await connection.run(`COPY (SELECT * FROM read_parquet('${FLIGHTS}')) TO '${target}' (FORMAT csv, HEADER true)`);
  connection.closeSync();
}

function airports() {
  // Three-letter codes A..Z × A..Z × A..Z would be 17,576; a list of 400 is a realistic allow-list.
  const codes = [];
  for (let i = 0; codes.length < 400; i++) codes.push(String.fromCharCode(65 + ((i / 676) | 0) % 26, 65 + ((i / 26) | 0) % 26, 65 + (i % 26)));
  return codes.join(', ');
}

function ingestSeconds(repo, dataset, file) {
  const out = featurelake(repo, {}, 'ingest', dataset, file, '--allow-duplicate'); // the same file every round
  return Number(/ in ([\d.]+) s\./.exec(out)[1]);
}

async function main() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'fl-bench-expect-'));
  try {
    const repo = path.join(dir, 'repo');
    require('node:fs').mkdirSync(repo);
    writeFileSync(path.join(repo, 'featurelake.yaml'), `project: bench\nlake:\n  uri: file://${dir}/lake\nstate_dir: ${dir}/state\n`);
    writeFileSync(path.join(repo, 'datasets.yaml'), DEFINITIONS);
    featurelake(repo, {}, 'apply');
    console.log(`machine: ${os.cpus().length} × ${os.cpus()[0].model}, Node ${process.version}`);
    console.log('flights-3m (3,000,000 rows) ingested without and with expectations (warn: all 12 rules checked in full)\n');
    const csv = path.join(dir, 'flights-3m.csv');
    await copyToCsv(csv);
    const results = [];
    for (const [format, file] of [['Parquet', FLIGHTS], ['CSV', csv]]) {
      const plain = [];
      const checked = [];
      for (let round = 0; round < ROUNDS; round++) {
        plain.push(ingestSeconds(repo, 'plain', file));
        checked.push(ingestSeconds(repo, 'checked', file));
        console.log(`${format} round ${round + 1}: without ${plain.at(-1).toFixed(2)} s | with ${checked.at(-1).toFixed(2)} s`);
      }
      results.push({ format, plain: median(plain), checked: median(checked) });
    }
    console.log('');
    for (const r of results) console.log(`median, ${r.format} input: without ${r.plain.toFixed(2)} s | with expectations ${r.checked.toFixed(2)} s | ratio ${(r.checked / r.plain).toFixed(2)}× (target ≤ 1.3×)`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
