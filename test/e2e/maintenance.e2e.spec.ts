import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN, cleanEnv, featurelake, featurelakeAsync, startServer, stopServer, waitForHealth } from '../support/cli';
import { scoresRepo } from '../support/scores-repo';
import { freePort } from '../support/free-port';
import request from 'supertest';
import { configEnv, loadConfig } from '../../src/config/load-config';
import { startApp } from '../support/app';

/** The scores repo, its dataset keeping only its latest snapshot (and those a training set pins), with a logged feature service. */
function maintenanceRepo(dir: string, project: string, config = ''): string {
  return scoresRepo(
    dir,
    project,
    config,
    `entities: [{ name: user, join_keys: [user_id], value_type: int64 }]
datasets: [{ name: events, timestamp_field: ts, retention: { keep_snapshots: 1 } }]
feature_views:
  - name: scores
    entities: [user]
    source: events
    features: [{ name: score, type: float64 }]
feature_services:
  - name: ranking
    features: [scores]
    logging: { sample_rate: 1, retention: { keep_snapshots: 1 } }
`,
  );
}

/** A small CSV of `rows` events for users 0…99, its scores offset by `seed` (so every file's bytes differ). */
function eventsFile(dir: string, seed: number, rows = 1000): string {
  const path = join(dir, `events-${seed}.csv`);
  const lines = Array.from({ length: rows }, (_, i) => `${i % 100},2026-01-01T${String(Math.floor(i / 60) % 24).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}:${String(seed % 60).padStart(2, '0')}Z,${seed + i / 1000}`);
  writeFileSync(path, ['user_id,ts,score', ...lines].join('\n'));
  return path;
}

/** What the lake holds for `events`: live snapshot ids, expired records, data files; and whether every live snapshot's files are there. */
function lakeState(repo: string) {
  const root = join(repo, '../lake/datasets/events');
  const list = (sub: string) => (existsSync(join(root, sub)) ? readdirSync(join(root, sub)).sort() : []);
  const snapshots = list('snapshots').map((f) => JSON.parse(readFileSync(join(root, 'snapshots', f), 'utf8')) as { snapshotId: number; rowCount: number; files: { key: string }[] });
  const data = list('data');
  const referenced = new Set(snapshots.flatMap((s) => s.files.map((f) => f.key.split('/').pop()!)));
  return {
    live: snapshots.map((s) => s.snapshotId),
    rows: snapshots.at(-1)?.rowCount ?? 0,
    expired: list('expired').length,
    data: data.length,
    missing: [...referenced].filter((f) => !data.includes(f)),
    unreferenced: data.filter((f) => !referenced.has(f)).length,
  };
}

function killedRun(repo: string, args: string[], killAt: string): Promise<{ signal: NodeJS.Signals | null; stdout: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, '--repo', repo, ...args], { env: { ...cleanEnv(), FEATURELAKE_KILL_AT: killAt }, stdio: ['ignore', 'pipe', 'ignore'] });
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.on('close', (_code, signal) => resolve({ signal, stdout }));
  });
}

describe('retention, compaction and GC from the repo, by command', () => {
  let dir: string;
  let repo: string;
  const run = (...args: string[]) => featurelake(repo, args);
  const verified = () => expect(run('training-sets', 'verify', 'pinned').stdout).toMatch(/^Identical/);

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'fl-maint-'));
    repo = maintenanceRepo(dir, 'maint');
    expect(run('apply').status).toBe(0);
    writeFileSync(join(dir, 'spine.csv'), 'user_id,event_timestamp\n1,2026-01-02T00:00:00Z\n42,2026-01-02T00:00:00Z\n');
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('expires what no training set pins, deletes its files once past the grace period, and saved sets verify throughout', () => {
    for (const seed of [1, 2, 3]) expect(run('ingest', 'events', eventsFile(dir, seed)).status).toBe(0);
    expect(run('training-sets', 'save', 'pinned', '--feature-service', 'ranking', '--entities', join(dir, 'spine.csv')).stdout).toMatch(/Saved training set pinned: 2 rows.*events@3/);
    expect(run('ingest', 'events', eventsFile(dir, 4)).status).toBe(0);
    expect(run('datasets', 'compact', 'events').stdout).toMatch(/^Compacted 4 files of events into 1 as snapshot 5 /);

    // Within the grace period the expired snapshots' files stay (a reader that started on one finishes).
    expect(run('gc').stdout).toBe('expired events snapshots 1, 2, 4\nDeleted 0 objects; 0 unreferenced objects are younger than the grace period and stay.\n');
    expect(lakeState(repo)).toMatchObject({ live: [3, 5], expired: 3, data: 5, missing: [] });
    // Past the grace period: the fourth small file (held by snapshot 4 alone) and the three records go.
    expect(run('gc', '--grace', '0').stdout).toBe('Deleted 4 objects (datasets 4); 0 unreferenced objects are younger than the grace period and stay.\n');
    expect(lakeState(repo)).toEqual({ live: [3, 5], rows: 4000, expired: 0, data: 4, missing: [], unreferenced: 0 });
    verified();
    expect(run('datasets', 'rollback', 'events', '--to', '2').stderr).toMatch(/^error \[SNAPSHOT_NOT_FOUND\]: dataset events has no snapshot 2\n/);

    // Deleting the training set unpins snapshot 3: its three files go at the next GC.
    expect(run('training-sets', 'delete', 'pinned').status).toBe(0);
    expect(run('gc', '--grace', '0').stdout).toBe('expired events snapshots 3\nDeleted 4 objects (datasets 4); 0 unreferenced objects are younger than the grace period and stay.\n');
    expect(lakeState(repo)).toEqual({ live: [5], rows: 4000, expired: 0, data: 1, missing: [], unreferenced: 0 });
  });

  it('survives kill -9 at each write of a compaction: the rows stay, the saved set verifies, the next run finishes', async () => {
    for (const seed of [5, 6, 7]) expect(run('ingest', 'events', eventsFile(dir, seed)).status).toBe(0);
    expect(run('training-sets', 'save', 'pinned', '--feature-service', 'ranking', '--entities', join(dir, 'spine.csv')).status).toBe(0);
    // Upload of the merged file, after it, after the commit (the answer never given).
    for (const point of ['before:putFile:1', 'after:putFile:1', 'after:putIfAbsent:1']) {
      const killed = await killedRun(repo, ['datasets', 'compact', 'events'], point);
      expect({ point, signal: killed.signal }).toEqual({ point, signal: 'SIGKILL' });
      expect({ point, ...lakeState(repo) }).toMatchObject({ point, rows: 7000, missing: [] });
      verified();
    }
    // The last kill came after the commit: the compaction is done, and its merged file is the one in use.
    expect(run('datasets', 'compact', 'events').stdout).toBe('Nothing to compact: events has fewer than two small files.\n');
    // Retention has not run since: every snapshot is live; 1: the merged file the second kill uploaded and never committed.
    expect(lakeState(repo)).toMatchObject({ live: [5, 6, 7, 8, 9], rows: 7000, data: 6, unreferenced: 1 });
  });

  it('survives kill -9 at each write of a GC: nothing live is lost, and the next run reaches the same end', async () => {
    expect(run('training-sets', 'delete', 'pinned').status).toBe(0);
    // Unpinned now: retention moves snapshots 5–8 aside (a record written, then the log entry deleted, each), then GC
    // deletes the files only they held and the abandoned merged file, then their records. Each run is killed at
    // one write: after a record, after a move, in the middle of the moves, after the last move, after the files went.
    const points = ['after:put:1', 'after:delete:1', 'before:delete:3', 'after:delete:1', 'after:delete:1'];
    for (const point of points) {
      const killed = await killedRun(repo, ['gc', '--grace', '0'], point);
      const state = lakeState(repo);
      if (killed.signal === null) throw new Error(`gc finished before ${point}: ${killed.stdout}`);
      expect({ point, rows: state.rows, missing: state.missing }).toEqual({ point, rows: 7000, missing: [] });
      expect(state.live).toContain(9);
    }
    expect(run('gc', '--grace', '0').status).toBe(0);
    expect(lakeState(repo)).toEqual({ live: [9], rows: 7000, expired: 0, data: 1, missing: [], unreferenced: 0 });
    const out = join(dir, 'after-gc.parquet');
    expect(run('materialize-incremental', '2026-02-01').status).toBe(0);
    expect(run('get-historical-features', '--feature-service', 'ranking', '--entities', join(dir, 'spine.csv'), '--output', out).status).toBe(0);
  });
});

describe('ingests, a compaction and a GC at once', () => {
  let dir: string;
  let repo: string;
  const run = (...args: string[]) => featurelake(repo, args);

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'fl-maint-race-'));
    repo = maintenanceRepo(dir, 'race');
    expect(run('apply').status).toBe(0);
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('loses no row and no live file, and takes only what was garbage before they started', async () => {
    let seed = 100;
    let expectedRows = 0;
    for (let round = 0; round < 3; round++) {
      // Garbage from before: small files compacted away and expired, made an hour old.
      for (let i = 0; i < 3; i++) expect(run('ingest', 'events', eventsFile(dir, seed++)).status).toBe(0);
      expectedRows += 3000;
      expect(run('datasets', 'compact', 'events').status).toBe(0);
      expect(run('gc').status).toBe(0);
      const hourAgo = new Date(Date.now() - 3600_000);
      for (const sub of ['data', 'expired']) {
        const folder = join(repo, '../lake/datasets/events', sub);
        for (const f of readdirSync(folder)) utimesSync(join(folder, f), hourAgo, hourAgo);
      }
      const dataDir = join(repo, '../lake/datasets/events/data');
      const live = new Set(readdirSync(join(repo, '../lake/datasets/events/snapshots')).flatMap((f) => (JSON.parse(readFileSync(join(repo, '../lake/datasets/events/snapshots', f), 'utf8')) as { files: { key: string }[] }).files.map((d) => d.key.split('/').pop())));
      const garbage = readdirSync(dataDir).filter((f) => !live.has(f));

      const ingests = [0, 1, 2].map(() => featurelakeAsync(repo, ['ingest', 'events', eventsFile(dir, seed++)]));
      const maintenance = [featurelakeAsync(repo, ['datasets', 'compact', 'events']), featurelakeAsync(repo, ['gc', '--grace', '600'])];
      const [i1, i2, i3, compaction, gc] = await Promise.all([...ingests, ...maintenance]);
      expectedRows += 3000;
      for (const ingest of [i1, i2, i3]) expect({ status: ingest.status, error: ingest.status === 0 ? '' : ingest.stderr }).toEqual({ status: 0, error: '' });
      // A compaction that lost its race gives up cleanly; one that won is a snapshot like any other.
      expect([0, 1]).toContain(compaction.status);
      if (compaction.status === 1) expect(compaction.stderr).toMatch(/^error \[COMMIT_CONFLICT\]/);
      expect(gc.status).toBe(0);
      const state = lakeState(repo);
      expect({ round, rows: state.rows, missing: state.missing }).toEqual({ round, rows: expectedRows, missing: [] });
      // The GC took the garbage from before (an hour old), and nothing the others wrote meanwhile.
      expect(garbage.length).toBeGreaterThan(0);
      expect(garbage.filter((f) => existsSync(join(dataDir, f)))).toEqual([]);
    }
    // Everything the latest snapshot lists reads back.
    const out = join(dir, 'all.parquet');
    expect(run('materialize-incremental', '2026-02-01').status).toBe(0);
    writeFileSync(join(dir, 'spine.csv'), 'user_id,event_timestamp\n1,2026-01-02T00:00:00Z\n');
    expect(run('get-historical-features', '--feature-service', 'ranking', '--entities', join(dir, 'spine.csv'), '--output', out).status).toBe(0);
    expect(run('datasets').stdout).toMatch(new RegExp(`events\\s+\\d+\\s+${expectedRows.toLocaleString('en-US')}\\s`));
  }, 240_000);
});

describe('maintenance on the schedule of featurelake.yaml', () => {
  let dir: string;
  let repo: string;
  const run = (...args: string[]) => featurelake(repo, args);

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'fl-maint-schedule-'));
    // Every 2 s, with a 3 s grace (longer than a log flush takes from upload to commit, so a round never takes a staged file); every served vector flushed to the log at once.
    repo = maintenanceRepo(dir, 'sched', 'maintenance: { every: 2s, grace: 3s }\nmonitoring: { log_flush_rows: 1 }\n');
    expect(run('apply').status).toBe(0);
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("the server's worker compacts the dataset and the feature log once they have many small files, expires their snapshots and collects the garbage", async () => {
    for (let seed = 0; seed < 9; seed++) expect(run('ingest', 'events', eventsFile(dir, 200 + seed, 100)).status).toBe(0);
    expect(run('materialize-incremental', '2026-02-01').status).toBe(0);
    const port = await freePort();
    const server = startServer(repo, port);
    try {
      const url = `http://127.0.0.1:${port}`;
      await waitForHealth(url, server);
      const datasets = join(repo, '../lake/datasets');
      const logName = () => readdirSync(datasets).find((n) => n.startsWith('_log_ranking_'));
      // The rows of the log's latest snapshot (the highest id: retention may have expired the others).
      const logRows = () => {
        const folder = logName() && join(datasets, logName()!, 'snapshots');
        const ids = folder && existsSync(folder) ? readdirSync(folder).sort() : [];
        return ids.length === 0 ? 0 : (JSON.parse(readFileSync(join(folder as string, ids.at(-1)!), 'utf8')) as { rowCount: number }).rowCount;
      };
      // One served vector at a time, each flushed before the next: nine small log files.
      for (let user = 0; user < 9; user++) {
        const response = await fetch(`${url}/get-online-features`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ feature_service: 'ranking', entities: { user_id: [user] } }) });
        expect(response.status).toBe(200);
        const flushed = Date.now() + 30_000;
        while (logRows() < user + 1) {
          if (Date.now() > flushed) throw new Error(`the log did not reach ${user + 1} rows`);
          await new Promise((r) => setTimeout(r, 50));
        }
      }
      // Settled: one live snapshot with all the rows in fewer files than were written, no expired record left, no file it does not hold.
      const settled = (name: string, rows: number, maxFiles: number) => {
        const folder = (sub: string) => (existsSync(join(datasets, name, sub)) ? readdirSync(join(datasets, name, sub)) : []);
        const snapshots = folder('snapshots');
        if (snapshots.length !== 1 || folder('expired').length > 0) return false;
        const latest = JSON.parse(readFileSync(join(datasets, name, 'snapshots', snapshots[0]), 'utf8')) as { rowCount: number; files: unknown[] };
        return latest.rowCount === rows && latest.files.length <= maxFiles && folder('data').length === latest.files.length;
      };
      const deadline = Date.now() + 90_000;
      // The log's nine flushes may straddle a round: compacted once, it may keep a newer small file.
      while (!(settled('events', 900, 1) && logName() && settled(logName()!, 9, 2))) {
        if (Date.now() > deadline) throw new Error(`maintenance did not settle: ${readdirSync(datasets).map((n) => `${n}: ${readdirSync(join(datasets, n, 'data')).length} files`).join(', ')}`);
        if (server.exitCode !== null) throw new Error(`server exited with ${server.exitCode}`);
        await new Promise((r) => setTimeout(r, 200));
      }
      // One record per round, saying who ran it and what it did.
      const rounds = readdirSync(join(repo, '../lake/maintenance/rounds')).map((f) => JSON.parse(readFileSync(join(repo, '../lake/maintenance/rounds', f), 'utf8')));
      expect(rounds.some((r) => r.summary?.compactedDatasets >= 1 && r.summary.failures.length === 0)).toBe(true);
      expect(typeof (await onlineScore(url, 3))).toBe('number'); // serving carried on throughout
    } finally {
      await stopServer(server);
    }
    // The compacted snapshots read the same as before: the views recompute from them.
    expect(run('materialize-incremental', '2026-02-02').status).toBe(0);
    // A feature log is compacted by name too (it is no declared dataset): its newer small file, if a round left one.
    const log = readdirSync(join(repo, '../lake/datasets')).find((n) => n.startsWith('_log_ranking_'))!;
    const compacted = run('datasets', 'compact', log);
    expect({ status: compacted.status, stderr: compacted.stderr }).toEqual({ status: 0, stderr: '' });
    expect(compacted.stdout).toMatch(new RegExp(`^(Compacted 2 files of ${log} into 1 as snapshot \\d+ \\(9 rows, 1 files\\)|Nothing to compact: ${log} has fewer than two small files)\\.\\n$`));
  }, 150_000);
});

async function onlineScore(url: string, user: number): Promise<unknown> {
  const response = await fetch(`${url}/get-online-features`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ features: ['scores:score'], entities: { user_id: [user] } }) });
  return ((await response.json()) as { results: { values: unknown[] }[] }).results[1].values[0];
}

describe('POST /datasets/{name}/compact', () => {
  let dir: string;
  let repo: string;
  const run = (...args: string[]) => featurelake(repo, args);

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'fl-maint-http-'));
    repo = maintenanceRepo(dir, 'http');
    expect(run('apply').status).toBe(0);
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('merges the files the views have consumed, takes the rest with ?all=true, and says what is wrong with a bad request', async () => {
    for (const seed of [1, 2, 3]) expect(run('ingest', 'events', eventsFile(dir, seed, 10)).status).toBe(0);
    expect(run('materialize-incremental', '2026-02-01').status).toBe(0);
    for (const seed of [4, 5]) expect(run('ingest', 'events', eventsFile(dir, seed, 10)).status).toBe(0); // not consumed yet
    const app = await startApp(loadConfig(repo, configEnv(cleanEnv())));
    try {
      const http = request(app.getHttpServer());
      const consumed = await http.post('/datasets/events/compact').expect(200);
      expect(consumed.body).toMatchObject({ merged_files: 3, new_files: 1, consumed_up_to: 3, snapshot: { snapshot_id: 6, operation: 'compact', row_count: 50 } });
      const all = await http.post('/datasets/events/compact?all=true').expect(200);
      expect(all.body).toMatchObject({ merged_files: 3, new_files: 1, consumed_up_to: null, snapshot: { snapshot_id: 7, row_count: 50 } });
      const again = await http.post('/datasets/events/compact').expect(200);
      expect(again.body).toMatchObject({ snapshot: null, merged_files: 0 });
      const bad = await http.post('/datasets/events/compact?all=yes').expect(400);
      expect(bad.headers['x-error-code']).toBe('VALIDATION_FAILED');
      expect(bad.body.message ?? bad.body.detail).toMatch(/all: must be true or false/);
      expect((await http.post('/datasets/nope/compact').expect(404)).headers['x-error-code']).toBe('DATASET_NOT_FOUND');
    } finally {
      await app.close();
    }
    // The view had consumed snapshot 3: the second compaction merged rows it had with rows it had not, so it recomputes them all, once.
    expect(run('materialize-incremental', '2026-02-01').stdout).toMatch(/scores\s+done/);
  });
});
