import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ChildProcess } from 'node:child_process';
import { EXAMPLE_REPO, AIRPORTS_CSV } from '../support/app';
import { featurelake, startServer, stopServer, waitForHealth } from '../support/cli';
import { query, writeFile } from '../support/duckdb-files';
import { freePort } from '../support/free-port';

/** The `featurelake` binary as a user runs it, on a copy of the example repo (embedded defaults). */
describe('featurelake CLI', () => {
  let dir: string;
  let repo: string;
  let server: ChildProcess | undefined;
  const run = (...args: string[]) => featurelake(repo, args);

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'fl-cli-'));
    repo = join(dir, 'feature-repo');
    mkdirSync(repo);
    copyFileSync(join(EXAMPLE_REPO, 'featurelake.yaml'), join(repo, 'featurelake.yaml'));
    copyFileSync(join(EXAMPLE_REPO, 'flights.yaml'), join(repo, 'flights.yaml'));
    await writeFile(
      join(dir, 'flights.csv'),
      `SELECT * FROM (VALUES
         (TIMESTAMP '2001-01-01 08:00', 10, 700, 'ORD', 'LGA'),
         (TIMESTAMP '2001-01-01 09:00', 20, 700, 'ORD', 'LGA'),
         (TIMESTAMP '2001-01-02 09:00', -5, 1500, 'ATL', 'LAX')) AS f(date, delay, distance, origin, destination)`,
    );
  });

  afterAll(async () => {
    if (server) await stopServer(server);
    rmSync(dir, { recursive: true, force: true });
  });

  it('plans, applies, and then has nothing more to apply', () => {
    const plan = run('plan');
    expect(plan.status).toBe(0);
    expect(plan.stdout).toContain('Registry version: none applied yet');
    expect(plan.stdout).toContain('+ feature_view airport_daily');
    expect(run('apply').stdout).toContain('Applied registry version 1 (project flights).');
    expect(run('plan').stdout).toContain('No changes');
    // A feature more changes the view's shape: plan says it reads empty online until materialized.
    const definitions = join(repo, 'flights.yaml');
    const text = readFileSync(definitions, 'utf8');
    writeFileSync(definitions, text.replace('      - { name: ground_stop, type: bool }', '      - { name: ground_stop, type: bool }\n      - { name: gusts, type: float64 }'));
    try {
      expect(run('plan').stdout).toContain('! feature_view airport_conditions: its keys or features change shape, so it reads empty online (NOT_FOUND) until it is materialized again');
    } finally {
      writeFileSync(definitions, text);
    }
  });

  it('ingests CSV files and lists the datasets', () => {
    const ingest = run('ingest', 'flights', join(dir, 'flights.csv'));
    expect(ingest.stdout).toMatch(/Ingested 3 rows into flights as snapshot 1 \(3 rows in all, events 2001-01-01T08:00:00Z … 2001-01-02T09:00:00Z\)/);
    expect(run('ingest', 'airports', AIRPORTS_CSV).status).toBe(0);
    // Ingesting the same file again (the newcomer's doubled departures) is a no-op that says so.
    const again = run('ingest', 'flights', join(dir, 'flights.csv'));
    expect([again.status, again.stdout.trim()]).toEqual([0, 'Skipped flights.csv: the same bytes are already in snapshot 1 of flights (--allow-duplicate adds them again).\nNothing to ingest: flights stays at snapshot 1 (3 rows).']);
    expect(run('datasets').stdout).toMatch(/flights\s+1\s+3\s+1\s+2001-01-01T08:00:00Z … 2001-01-02T09:00:00Z/);
  });

  it('binds every view against its data before applying: SQL that fails is refused with its file and line, and nothing is applied', () => {
    const plan = run('plan');
    expect(plan.stdout).toContain('No changes');
    expect(plan.stdout).toContain('? feature_view airport_conditions: not checked against data: dataset airport_conditions has none yet');
    const definitions = join(repo, 'flights.yaml');
    const text = readFileSync(definitions, 'utf8');
    const line = text.split('\n').findIndex((l) => l.includes('avg(delay)::DOUBLE AS avg_delay')) + 1;
    writeFileSync(definitions, text.replace('avg(delay)::DOUBLE AS avg_delay', 'avg(delya)::DOUBLE AS avg_delay').replace('timestamp_field: observed_at', 'timestamp_field: observed'));
    try {
      const apply = run('apply');
      expect(apply.status).toBe(1);
      expect(apply.stderr).toContain('error [FEATURE_REPO_INVALID]: the feature repo has 1 problem(s):');
      expect(apply.stderr).toMatch(new RegExp(`flights\\.yaml: feature_views\\[0\\]\\.sql: does not bind: Binder Error: Referenced column "delya" not found.*\\(line ${line}\\)`));
    } finally {
      writeFileSync(definitions, text);
    }
    expect(run('plan').stdout).toMatch(/Registry version: 1\nNo changes/);
  });

  it('materializes, then serves online features and a point-in-time training set', async () => {
    // airport_info is static: its rows are stamped 2000-01-01, so the window starts there.
    const materialize = run('materialize', '2000-01-01', '2001-01-05', '--views', 'airport_daily,airport_info');
    expect(materialize.stdout).toMatch(/airport_daily\s+done\s+1\s+2000-01-01T00:00:00Z\s+2001-01-05T00:00:00Z\s+3\s+2\s+2\s/);
    expect(materialize.stdout).toMatch(/Job \d{8}T\d{9}Z-[0-9a-f]{8} succeeded/);
    const online = run('get-online-features', '--features', 'airport_daily:departures,airport_info:state', '--entity', 'airport=ORD,ZZZ', '--json');
    const body = JSON.parse(online.stdout);
    expect(body.metadata.feature_names).toEqual(['airport', 'departures', 'state']);
    // The 2001 values are long past their 2-day ttl (and the grace after it): expired, not served.
    expect(body.results[1]).toMatchObject({ values: [null, null], statuses: ['NOT_FOUND', 'NOT_FOUND'] });
    expect(body.results[2].values).toEqual(['IL', null]);
    const table = run('get-online-features', '--features', 'airport_info:state', '--entity', 'airport=ORD');
    expect(table.stdout).toMatch(/airport\s+state\n-+\s+-+\nORD\s+IL/);

    writeFileSync(join(dir, 'spine.csv'), 'airport,event_timestamp,label\nORD,2001-01-02T12:00:00Z,1\nORD,2001-01-01T12:00:00Z,0\n');
    const out = join(dir, 'out', 'nested', 'training.parquet'); // --output makes its folder
    const historical = run('get-historical-features', '--features', 'airport_daily:departures,airport_daily:avg_delay', '--entities', join(dir, 'spine.csv'), '--output', out);
    expect(historical.stdout).toContain('Wrote 2 rows');
    const rows = await query(`SELECT airport, label::INTEGER AS label, departures::INTEGER AS departures, avg_delay FROM read_parquet('${out}')`);
    expect(rows).toEqual([
      { airport: 'ORD', label: 1, departures: 2, avg_delay: 15 },
      { airport: 'ORD', label: 0, departures: null, avg_delay: null },
    ]);
  });

  it('runs skew checks: a table, an HTML report, stored results, and exit status 1 when a check fails', () => {
    const passing = run('skew', 'run', '--reference', 'feature-view:airport_daily', '--current', 'feature-view:airport_daily', '--checks', 'distribution,schema');
    expect(passing.stderr).toBe('');
    expect(passing.status).toBe(0);
    expect(passing.stdout).toMatch(/Skew check \S+: PASSED — distribution 0\/2 drifted, schema passed/);
    expect(passing.stdout).toMatch(/airport_daily:avg_delay\s+\w+ 1\.00\s+ok/);
    const report = join(dir, 'schema.html');
    const failing = run('skew', 'run', '--name', 'schema_demo', '--reference', 'dataset:flights', '--current', 'dataset:airports', '--checks', 'schema', '--html', report);
    expect(failing.status).toBe(1);
    expect(failing.stdout).toMatch(/FAILED — schema 11 issue\(s\)/);
    expect(failing.stdout).toMatch(/delay\s+missing_in_current/);
    expect(readFileSync(report, 'utf8')).toContain('<h2>Schema');
    const id = /(\d{8}T\d{6}Z-[0-9a-f]{6})\s+schema_demo\s+failed/.exec(run('skew', 'list', '--name', 'schema_demo').stdout)?.[1];
    expect(JSON.parse(run('skew', 'show', id as string, '--json').stdout)).toMatchObject({ id, name: 'schema_demo', status: 'failed' });
    expect(run('skew', 'run', '--current', 'warehouse:x').stderr).toMatch(/^error \[VALIDATION_FAILED\]: --current: unknown side kind "warehouse"/);
    expect(run('skew', 'declared', 'nope').stderr).toMatch(/^error \[SKEW_CHECK_NOT_FOUND\]/);
  });

  it('fails with a stable code and exit status 1 on bad input', () => {
    const missing = run('ingest', 'nope', join(dir, 'flights.csv'));
    expect(missing.status).toBe(1);
    expect(missing.stderr).toMatch(/^error \[DATASET_NOT_FOUND\]: dataset "nope" is not declared/);
    expect(run('materialize', 'soon', '2001-01-05').stderr).toMatch(/^error \[INVALID_TIMESTAMP\]: START: "soon"/);
    expect(run('ingest', 'flights', join(dir, 'flights.txt')).stderr).toMatch(/^error \[VALIDATION_FAILED\]: .*flights\.txt: unknown format/);
    const badRepo = join(dir, 'bad-repo');
    mkdirSync(badRepo);
    copyFileSync(join(repo, 'featurelake.yaml'), join(badRepo, 'featurelake.yaml'));
    writeFileSync(join(badRepo, 'flights.yaml'), readFileSync(join(repo, 'flights.yaml'), 'utf8').replace('ttl: 2d', 'ttl: 2 days'));
    const invalid = featurelake(badRepo, ['apply']);
    expect(invalid.status).toBe(1);
    expect(invalid.stderr).toMatch(/error \[FEATURE_REPO_INVALID\][\s\S]*flights\.yaml: feature_views\[0\]\.ttl: invalid duration "2 days"/);
    expect(featurelake(join(dir, 'nowhere'), ['plan']).stderr).toMatch(/error \[CONFIG_INVALID\]: .*featurelake\.yaml: not found/);
    // A file that is not there is a coded failure too (it printed `error: ENOENT …`).
    const absent = run('ingest', 'flights', join(dir, 'no-such-folder', 'flights.csv'));
    expect([absent.status, absent.stderr.trim()]).toEqual([1, `error [FILE_NOT_FOUND]: no such file or folder: ${join(dir, 'no-such-folder', 'flights.csv')}`]);
    // The example's airport_conditions expects upper-case codes and visibilities of 0–100 miles.
    writeFileSync(join(dir, 'conditions.csv'), 'airport,observed_at,visibility_miles,wind_knots,ground_stop\nORD,2001-01-01T08:00:00Z,10,5,false\nord,2001-01-01T08:00:00Z,-3,5,false\n');
    const broken = run('ingest', 'airport_conditions', join(dir, 'conditions.csv'));
    expect(broken.status).toBe(1);
    expect(broken.stderr).toMatch(/^error \[EXPECTATION_FAILED\]: conditions\.csv: 2 expectation\(s\) of dataset airport_conditions failed; nothing was committed:\n {2}airport\.regex .*: 1 row, e\.g\. \{"airport":"ord","observed_at":"2001-01-01T08:00:00\.000000Z"/);
    expect(broken.stderr).toMatch(/\n {2}visibility_miles\.min \(visibility_miles >= 0\): 1 row/);
    expect(run('datasets', 'describe', 'airport_conditions').stdout).toMatch(/latest_snapshot: null/);
  });

  it('prints its version, with Node and DuckDB', () => {
    for (const args of [['--version'], ['version']]) {
      const result = run(...args);
      expect([result.status, result.stdout.trim()]).toEqual([0, expect.stringMatching(/^featurelake \d+\.\d+\.\d+ \(Node v\d+\.\d+\.\d+, DuckDB \d+\.\d+\.\d+\)$/)]);
    }
  });

  it('names the running server instead of failing on a DuckDB lock, while lake-only commands keep working', async () => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    server = startServer(repo, port);
    await waitForHealth(url, server);
    // Make the server open the offline store.
    const response = await fetch(`${url}/materialize`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ start_ts: '2001-01-01', end_ts: '2001-01-05', feature_views: ['airport_daily'] }),
    });
    expect(response.status).toBe(200);
    const locked = run('materialize', '2001-01-01', '2001-01-05');
    expect(locked.status).toBe(1);
    expect(locked.stderr).toContain(`error [STORE_LOCKED]: `);
    expect(locked.stderr).toContain(`is held open by the featurelake server at ${url} (pid ${server.pid}); send this request to its HTTP API`);
    expect(run('ingest', 'flights', join(dir, 'flights.csv'), '--allow-duplicate').stdout).toContain('as snapshot 2');
    expect(run('apply').status).toBe(0);
    // delay_model logs what it serves; the log is still in memory (30 s flushes) when SIGTERM comes.
    const served = await fetch(`${url}/get-online-features`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ feature_service: 'delay_model', entities: { airport: ['ORD', 'ATL', 'ZZZ'], origin: ['ORD', 'ATL', 'ZZZ'], destination: ['LGA', 'LAX', 'YYY'] } }),
    });
    expect(served.status).toBe(200);
    const stateDir = join(dir, '.featurelake');
    expect(existsSync(join(stateDir, 'server.json'))).toBe(true);
    expect(await stopServer(server)).toBe(0);
    server = undefined;
    expect(existsSync(join(stateDir, 'server.json'))).toBe(false);
    expect(run('datasets').stdout).toMatch(/_log_delay_model_[0-9a-f]{8}\s+1\s+3\s/);
    expect(run('materialize', '2001-01-01', '2001-01-05').status).toBe(0);
  });
});
