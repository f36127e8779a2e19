#!/usr/bin/env node
'use strict';
/**
 * `npm run demo:skew`: the skew checks on the quickstart's flights, through the real CLI.
 *
 *   a training set of 2,000 of yesterday's flights (the reference) → a streaming job gone wrong
 *   writes avg_delay online with Gaussian noise → the same flights are served in four requests
 *   (logged by delay_model's feature logging) → `featurelake skew run` compares the logs with
 *   the training set and with the offline store, and writes the HTML report.
 *
 * Runs `npm run quickstart` first when its state (./.featurelake) is missing.
 */
const { spawnSync } = require('node:child_process');
const { existsSync, writeFileSync } = require('node:fs');
const path = require('node:path');
const { DuckDBInstance } = require('@duckdb/node-api');
const { perturbOnline: perturb } = require('./lib/perturb-online');
const { STATE, STATE_ENV } = require('./lib/quickstart-state');

const ROOT = path.join(__dirname, '..');
const REPO = path.join(ROOT, 'feature-repo');
const BIN = path.join(ROOT, 'bin', 'featurelake.js');
const REPLAY = path.join(STATE, 'work', 'flights-replayed.parquet');
const ROWS = 2000;
const REQUESTS = 4;

async function main() {
  if (!existsSync(REPLAY)) {
    console.log('No quickstart state yet: running `npm run quickstart` first.\n');
    const run = spawnSync(process.execPath, [path.join(__dirname, 'quickstart.js')], { stdio: 'inherit', env: process.env });
    if (run.status !== 0) throw new Error('the quickstart failed');
  }
  const flights = await sampleFlights();
  const now = new Date().toISOString();
  const entitiesFile = path.join(STATE, 'work', 'skew-entities.csv');
  writeFileSync(entitiesFile, ['airport,origin,destination,event_timestamp', ...flights.map((f) => `${f.origin},${f.origin},${f.destination},${now}`)].join('\n'));
  const reference = `delay_reference_${now.replace(/\D/g, '').slice(0, 14)}`;

  console.log(`1. The reference: a training set of ${ROWS.toLocaleString('en-US')} of yesterday's flights, as of now.\n`);
  cli(['training-sets', 'save', reference, '--feature-service', 'delay_model', '--entities', entitiesFile]);

  console.log('2. A streaming job gone wrong: airport_daily:avg_delay is written online with Gaussian noise (σ = its spread across airports).');
  console.log('   The offline store keeps the true values.\n');
  const perturbed = await perturbOnline([...new Set(flights.map((f) => f.origin))]);
  console.log(`   ${perturbed} airports perturbed.\n`);

  console.log(`3. The same flights are served through delay_model (feature logging on, sample_rate 1.0) in ${REQUESTS} requests.\n`);
  const size = Math.ceil(flights.length / REQUESTS);
  for (let i = 0; i < flights.length; i += size) {
    const batch = flights.slice(i, i + size);
    const args = ['get-online-features', '--feature-service', 'delay_model', '--json'];
    for (const key of ['airport', 'origin', 'destination']) args.push('--entity', `${key}=${batch.map((f) => (key === 'destination' ? f.destination : f.origin)).join(',')}`);
    cli(args, { quiet: true, shown: `featurelake get-online-features --feature-service delay_model --entity airport=… --entity origin=… --entity destination=…   (${batch.length} rows)` });
  }
  console.log('');

  console.log('4. The checks: serving logs of the last hour against the training set (distribution, schema) and against offline (consistency).\n');
  const report = path.join(STATE, 'skew-report.html');
  const status = cli(['skew', 'run', '--name', 'demo', '--reference', `training-set:${reference}`, '--current', 'serving-logs:delay_model', '--last', '1h', '--html', report], { allowFailure: true });
  console.log(status === 1 ? 'The check failed, as it should: avg_delay drifted and its served values disagree with offline (exit code 1).' : 'Unexpected: the check passed.');
  console.log(`Open the report: ${path.relative(process.cwd(), report)}`);
  if (status !== 1) process.exitCode = 1;
}

/** `ROWS` flights of the last replayed day, the same every run. */
async function sampleFlights() {
  const db = await DuckDBInstance.create(':memory:');
  const sql = await db.connect();
  const reader = await sql.runAndReadAll(`
    SELECT origin, destination FROM (
      SELECT origin, destination FROM read_parquet('${REPLAY}') WHERE date >= (SELECT max(date)::DATE FROM read_parquet('${REPLAY}'))
    ) USING SAMPLE reservoir(${ROWS} ROWS) REPEATABLE (42)`);
  const rows = reader.getRowObjectsJS().map((r) => ({ origin: String(r.origin), destination: String(r.destination) }));
  sql.closeSync();
  db.closeSync();
  return rows;
}

/** Writes noisy avg_delay values through the online store port, as any online writer would. */
async function perturbOnline(airports) {
  const { NestFactory } = require('@nestjs/core');
  const { AppModule } = require(path.join(ROOT, 'dist', 'app.module'));
  const { loadConfig, configEnv } = require(path.join(ROOT, 'dist', 'config', 'load-config'));
  const { OnlineStore } = require(path.join(ROOT, 'dist', 'online-store', 'online-store'));
  const { RegistryService } = require(path.join(ROOT, 'dist', 'registry', 'registry.service'));
  const { encodeEntityKey } = require(path.join(ROOT, 'dist', 'core', 'entity-key'));
  const app = await NestFactory.createApplicationContext(AppModule.register(loadConfig(REPO, configEnv(STATE_ENV))), { logger: ['error'] });
  try {
    const ports = { store: app.get(OnlineStore, { strict: false }), catalog: await app.get(RegistryService).catalog(), encodeEntityKey };
    return await perturb(ports, { viewName: 'airport_daily', feature: 'avg_delay', keys: airports });
  } finally {
    await app.close();
  }
}

/** Runs the featurelake CLI against the quickstart state; prints the command and its output; returns the exit code. */
function cli(args, options = {}) {
  console.log(`$ ${options.shown ?? `featurelake ${args.map((a) => (a.startsWith(ROOT) ? path.relative(ROOT, a) : a)).join(' ')}`}`);
  const result = spawnSync(process.execPath, [BIN, '--repo', REPO, ...args], { encoding: 'utf8', env: STATE_ENV, maxBuffer: 64 * 2 ** 20 });
  if (result.status !== 0 && !(options.allowFailure && result.status === 1 && !result.stderr)) {
    throw new Error(`featurelake ${args[0]} failed:\n${result.stderr || result.stdout}`);
  }
  if (!options.quiet) console.log(result.stdout.trimEnd().replace(/^/gm, '  ') + '\n');
  return result.status;
}

main().catch((error) => {
  console.error(error.message);
  process.exit(1);
});
