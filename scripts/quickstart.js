#!/usr/bin/env node
'use strict';
/**
 * `npm run quickstart`: the whole featurelake path on the embedded defaults (no Redis, no S3),
 * on real data, through the real `featurelake` CLI — each command is printed as you would type it.
 *
 *   apply → ingest 3M flights + airports → materialize → online features → consistency check
 *   against the offline store → a point-in-time training set → step timings.
 *
 * The flights are from 2001. So that online values are fresh (not OUTSIDE_MAX_AGE), they are
 * replayed: every date is shifted by whole days so the last flight day is yesterday (UTC).
 * State goes to ./.featurelake (QUICKSTART_STATE_DIR overrides), which is reset first.
 */
const { spawnSync } = require('node:child_process');
const { mkdirSync, readFileSync, rmSync, writeFileSync } = require('node:fs');
const path = require('node:path');
const { DuckDBInstance } = require('@duckdb/node-api');
const { STATE, STATE_ENV } = require('./lib/quickstart-state');

const ROOT = path.join(__dirname, '..');
const REPO = path.join(ROOT, 'feature-repo');
const BIN = path.join(ROOT, 'bin', 'featurelake.js');
const DATA = path.join(ROOT, 'node_modules', 'vega-datasets', 'data');
const TRAINING_ROWS = 100000;

const timings = [];

async function main() {
  rmSync(STATE, { recursive: true, force: true });
  mkdirSync(path.join(STATE, 'work'), { recursive: true });
  const db = await DuckDBInstance.create(':memory:');
  const sql = await db.connect();
  await sql.run("SET TimeZone = 'UTC'");

  step('apply the feature repo', () => cli('apply'));
  const replay = path.join(STATE, 'work', 'flights-replayed.parquet');
  const shiftDays = await timed('replay 2001 flights up to yesterday', () => replayFlights(sql, replay));
  console.log(`  every flight moved ${shiftDays} days later; the last flight day is now yesterday (UTC)\n`);
  step('ingest the flights (3M rows)', () => cli('ingest', 'flights', replay));
  step('ingest airports', () => cli('ingest', 'airports', path.join(DATA, 'airports.csv')));
  cli('datasets');
  step('materialize all feature views', () => cli('materialize-incremental', new Date().toISOString()));

  const entities = await busiestRoutes(sql, replay);
  const at = new Date().toISOString();
  const online = step('get online features', () => JSON.parse(cli('get-online-features', '--feature-service', 'delay_model', ...entityArgs(entities), '--json')));
  printOnline(online);
  const offline = await timed('point-in-time offline values at the same moment', () => offlineAt(sql, entities, at));
  const check = compare(online, offline);
  console.log(`  online vs offline (latest in-ttl values at ${at}): ${check.equal}/${check.total} values equal\n`);
  if (check.equal !== check.total) throw new Error(`online and offline disagree:\n${check.differences.join('\n')}`);

  await timed(`build a training set for ${TRAINING_ROWS.toLocaleString('en-US')} sampled flights`, () => trainingSet(sql, replay));
  printTimings();
  sql.closeSync();
  db.closeSync();
}

/** Runs the featurelake CLI against the example repo; prints the command and its output. */
function cli(...args) {
  console.log(`$ featurelake ${args.map(shown).join(' ')}`);
  const result = spawnSync(process.execPath, [BIN, '--repo', REPO, ...args], { encoding: 'utf8', env: STATE_ENV, maxBuffer: 64 * 2 ** 20 });
  if (result.status !== 0) throw new Error(`featurelake ${args[0]} failed:\n${result.stderr || result.stdout}`);
  if (!args.includes('--json')) console.log(result.stdout.trimEnd().replace(/^/gm, '  ') + '\n');
  return result.stdout;
}

/** Paths under the project are shown relative to it, as a user would type them. */
function shown(arg) {
  if (arg.includes(' ')) return JSON.stringify(arg);
  return arg.startsWith(ROOT + path.sep) ? path.relative(ROOT, arg) : arg;
}

/**
 * Shifts the flights by whole days so the last full day becomes yesterday (UTC). The file's
 * final calendar day (2001-07-01) holds only a handful of flights at midnight and is left out,
 * so "yesterday" is a real day of traffic.
 */
async function replayFlights(sql, target) {
  const source = path.join(DATA, 'flights-3m.parquet');
  const lastDay = `(SELECT max(date)::DATE FROM read_parquet('${source}'))`;
  const shift = await one(sql, `SELECT (current_date - 1 - (${lastDay} - 1))::INTEGER`);
  await sql.run(
    `COPY (SELECT date + to_days(${shift}) AS date, delay, distance, origin, destination
           FROM read_parquet('${source}') WHERE date < ${lastDay})
     TO '${target}' (FORMAT parquet, COMPRESSION zstd)`,
  );
  return shift;
}

/** The five busiest airports, each with its busiest route, from the replayed data. */
async function busiestRoutes(sql, replay) {
  const reader = await sql.runAndReadAll(`
    WITH top AS (SELECT origin, count(*) AS n FROM read_parquet('${replay}') GROUP BY origin ORDER BY n DESC, origin LIMIT 5)
    SELECT t.origin, arg_max(f.destination, f.c) AS destination
    FROM top t JOIN (SELECT origin, destination, count(*) AS c FROM read_parquet('${replay}') GROUP BY ALL) f USING (origin)
    GROUP BY t.origin, t.n ORDER BY t.n DESC`);
  return reader.getRowObjectsJS().map((r) => ({ airport: r.origin, origin: r.origin, destination: r.destination }));
}

function entityArgs(entities) {
  return ['airport', 'origin', 'destination'].flatMap((key) => ['--entity', `${key}=${entities.map((e) => e[key]).join(',')}`]);
}

function printOnline(response) {
  const names = response.metadata.feature_names;
  const rows = response.results[0].values.map((_, row) => response.results.map((col) => format(col.values[row], col.statuses[row])));
  const widths = names.map((n, i) => Math.max(n.length, ...rows.map((r) => r[i].length)));
  const line = (cells) => '  ' + cells.map((c, i) => c.padEnd(widths[i])).join('  ');
  console.log(line(names));
  for (const row of rows) console.log(line(row));
  console.log('');
}

function format(value, status) {
  if (status !== 'PRESENT') return status;
  return typeof value === 'number' && !Number.isInteger(value) ? value.toFixed(3) : String(value);
}

/** The same entities through the offline store, at the moment of the online request. */
async function offlineAt(sql, entities, at) {
  const entitiesFile = path.join(STATE, 'work', 'check-entities.csv');
  const outFile = path.join(STATE, 'work', 'check-offline.jsonl');
  writeFileSync(entitiesFile, ['airport,origin,destination,event_timestamp', ...entities.map((e) => `${e.airport},${e.origin},${e.destination},${at}`)].join('\n'));
  cli('get-historical-features', '--feature-service', 'delay_model', '--entities', entitiesFile, '--output', outFile);
  return readFileSync(outFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
}

function compare(online, offline) {
  const names = online.metadata.feature_names;
  const differences = [];
  let total = 0;
  names.forEach((name, col) => {
    if (['airport', 'origin', 'destination'].includes(name)) return;
    online.results[col].values.forEach((value, row) => {
      total++;
      const served = online.results[col].statuses[row] === 'PRESENT' ? value : null;
      const stored = offline[row][name] ?? null;
      if (served !== stored) differences.push(`  row ${row} ${name}: online ${served} offline ${stored}`);
    });
  });
  return { total, equal: total - differences.length, differences };
}

async function trainingSet(sql, replay) {
  const entities = path.join(STATE, 'work', 'training-entities.parquet');
  const output = path.join(STATE, 'training', 'delay_model.parquet');
  mkdirSync(path.dirname(output), { recursive: true });
  await sql.run(`COPY (SELECT origin AS airport, origin, destination, date AS event_timestamp, delay AS label
                       FROM read_parquet('${replay}') USING SAMPLE reservoir(${TRAINING_ROWS} ROWS) REPEATABLE (42))
                 TO '${entities}' (FORMAT parquet)`);
  cli('get-historical-features', '--feature-service', 'delay_model', '--entities', entities, '--output', output);
  const reader = await sql.runAndReadAll(`SELECT * FROM read_parquet('${output}') LIMIT 5`);
  const filled = await sql.runAndReadAll(
    `SELECT count(*) AS rows, count(avg_delay) AS avg_delay, count(route_flights_7d) AS route_flights_7d, count(state) AS state FROM read_parquet('${output}')`,
  );
  const [counts] = filled.getRowObjectsJS();
  console.log(`  ${output}: ${counts.rows} rows; values found for avg_delay ${counts.avg_delay}, route_flights_7d ${counts.route_flights_7d}, state ${counts.state}`);
  console.log('  (a flight on the first replayed day has no previous day to look at: its airport_daily values are null)');
  for (const row of reader.getRowObjectsJson()) console.log('  ' + JSON.stringify(row));
  console.log('');
}

function step(name, work) {
  const started = process.hrtime.bigint();
  const result = work();
  timings.push([name, Number(process.hrtime.bigint() - started) / 1e9]);
  return result;
}

async function timed(name, work) {
  const started = process.hrtime.bigint();
  const result = await work();
  timings.push([name, Number(process.hrtime.bigint() - started) / 1e9]);
  return result;
}

async function one(sql, query) {
  return (await sql.runAndReadAll(query)).getRows()[0][0];
}

function printTimings() {
  console.log('Step timings (each CLI step includes starting the process, about 0.5 s):');
  const width = Math.max(...timings.map(([n]) => n.length));
  for (const [name, seconds] of timings) console.log(`  ${name.padEnd(width)}  ${seconds.toFixed(2).padStart(6)} s`);
  console.log(`  ${'total'.padEnd(width)}  ${timings.reduce((s, [, t]) => s + t, 0).toFixed(2).padStart(6)} s`);
}

main().catch((error) => {
  console.error(error.message);
  process.exit(1);
});
