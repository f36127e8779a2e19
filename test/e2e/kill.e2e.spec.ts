import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Redis from 'ioredis';
import { BIN, cleanEnv, featurelake } from '../support/cli';
import { query, writeFile } from '../support/duckdb-files';
import { startRedis, TestRedis } from '../support/redis-server';
import { scoresRepo } from '../support/scores-repo';

const ENTITIES = 300_000;

/** kill -9 in the middle of writing to Redis: the next run completes, and online equals offline. */
describe('a killed materialization', () => {
  let dir: string;
  let repo: string;
  let redis: TestRedis;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'fl-kill-'));
    redis = await startRedis();
    repo = scoresRepo(dir, 'kill', `online: { type: redis, url: "${redis.url}" }\n`);
    await writeFile(join(dir, 'events.parquet'), `SELECT range AS user_id, TIMESTAMP '2026-01-01' + to_seconds(range % 1000) AS ts, (range * 7 % 1000) / 10 AS score FROM range(${ENTITIES})`);
    expect(featurelake(repo, ['apply']).status).toBe(0);
    expect(featurelake(repo, ['ingest', 'events', join(dir, 'events.parquet')]).status).toBe(0);
  });

  afterAll(async () => {
    await redis.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('leaves nothing inconsistent, and the job history says the killed job was interrupted', async () => {
    const client = new Redis(redis.url);
    const child = spawn(process.execPath, [BIN, '--repo', repo, 'materialize-incremental', '2026-02-01'], { env: cleanEnv(), stdio: 'ignore' });
    // Kill it once it is part-way through writing online.
    for (let i = 0; i < 600 && (await client.dbsize()) < ENTITIES / 10; i++) await new Promise((r) => setTimeout(r, 20));
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    const partial = await client.dbsize();
    expect(partial).toBeGreaterThan(0);
    expect(partial).toBeLessThan(ENTITIES);

    const rerun = featurelake(repo, ['materialize-incremental', '2026-02-01']);
    expect(rerun.status).toBe(0);
    expect(await client.dbsize()).toBe(ENTITIES + 1); // and the view's epoch marker
    const jobs = featurelake(repo, ['jobs']).stdout;
    expect(jobs).toMatch(/materialize-incremental\s+succeeded/);
    expect(jobs).toMatch(/materialize-incremental\s+failed\s+scores.*JOB_INTERRUPTED/);

    // Online equals offline: compare a sample of entities through both read paths.
    const sample = [0, 1, 999, 123_456, ENTITIES - 1];
    const online = JSON.parse(featurelake(repo, ['get-online-features', '--features', 'scores:score', '--entity', `user_id=${sample.join(',')}`, '--json']).stdout);
    writeFileSync(join(dir, 'spine.csv'), ['user_id,event_timestamp', ...sample.map((u) => `${u},2026-02-01T00:00:00Z`)].join('\n'));
    const out = join(dir, 'offline.parquet');
    expect(featurelake(repo, ['get-historical-features', '--features', 'scores:score', '--entities', join(dir, 'spine.csv'), '--output', out]).status).toBe(0);
    const offline = await query(`SELECT score FROM read_parquet('${out}')`);
    expect(online.results[1].values).toEqual(offline.map((r) => r.score));
    client.disconnect();
  });
});

/** kill -9 at several points of an ingest: the dataset is always at a whole snapshot, holds the file at most once, and the next ingest completes. */
describe('a killed ingest', () => {
  const ROWS = 1_000_000;
  let dir: string;
  let repo: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'fl-kill-ingest-'));
    repo = scoresRepo(dir, 'killingest');
    // CSV, so that the ingest spends a while converting before it commits.
    await writeFile(join(dir, 'events.csv'), `SELECT range % 1000 AS user_id, TIMESTAMP '2026-01-01' + to_seconds(range) AS ts, (range % 97) / 10 AS score FROM range(${ROWS})`);
    expect(featurelake(repo, ['apply']).status).toBe(0);
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const rowsInLake = () => {
    const listing = featurelake(repo, ['datasets']);
    expect(listing.status).toBe(0);
    const line = listing.stdout.split('\n').find((l) => l.startsWith('events '))!;
    return Number(line.trim().split(/\s+/)[2].replace(/,/g, ''));
  };

  it('never shows a half-written snapshot, whenever the process dies', async () => {
    const seen: number[] = [];
    for (const delayMs of [300, 900, 1800]) {
      const child = spawn(process.execPath, [BIN, '--repo', repo, 'ingest', 'events', join(dir, 'events.csv')], { env: cleanEnv(), stdio: 'ignore' });
      await new Promise((r) => setTimeout(r, delayMs));
      const exited = new Promise((r) => (child.exitCode !== null || child.signalCode !== null ? r(null) : child.once('exit', r)));
      child.kill('SIGKILL'); // a no-op when the ingest already finished
      await exited;
      const rows = rowsInLake();
      // Never part of an ingest; and the same bytes are in at most once, however many attempts committed.
      expect([0, ROWS]).toContain(rows);
      seen.push(rows);
    }
    const ingest = featurelake(repo, ['ingest', 'events', join(dir, 'events.csv')]);
    expect(ingest.status).toBe(0);
    expect(rowsInLake()).toBe(ROWS); // added now, or found there (Nothing to ingest) when a killed attempt had committed
    expect(featurelake(repo, ['materialize-incremental', '2026-02-01']).status).toBe(0);
    const online = JSON.parse(featurelake(repo, ['get-online-features', '--features', 'scores:score', '--entity', 'user_id=0,999', '--json']).stdout);
    expect(online.results[1].statuses).toEqual(['PRESENT', 'PRESENT']);
    expect(seen.some((rows) => rows === 0)).toBe(true); // at least one kill landed before the commit
  }, 180_000);
});
