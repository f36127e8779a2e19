import { ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN, cleanEnv, featurelakeAsync, waitForHealth } from '../support/cli';
import { writeFile } from '../support/duckdb-files';
import { freePort } from '../support/free-port';
import { objectStore } from '../support/lake';
import { startRedis, TestRedis } from '../support/redis-server';
import { startS3, TestS3 } from '../support/s3-server';
import { jobFinished, onlineScores, scoresRepo } from '../support/scores-repo';

const ENTITIES = 50_000;
const AT = '2026-03-01T00:00:00Z';
const score = (u: number) => ((u * 7) % 1000) / 10;

/**
 * The compute tier on the S3 protocol: the lake on s3rver, `serve --no-worker` and two workers
 * with state folders of their own (as on separate machines: each downloads what it reads into
 * its own cache), BullMQ on a private redis-server. Jobs, retrievals, training sets and ingests
 * run on the workers, their files through the bucket; a worker that cannot reach the lake fails
 * its task with LAKE_UNAVAILABLE, and the job says which task. Every CLI call is asynchronous:
 * s3rver runs inside this process.
 */
describe('workers on a BullMQ queue with the lake on S3', () => {
  let dir: string;
  let repo: string;
  let s3: TestS3;
  let redis: TestRedis;
  let url: string;
  let env: NodeJS.ProcessEnv;
  const prefix = `workers-${process.pid}`;
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'fl-workers-s3-'));
    [s3, redis] = await Promise.all([startS3(), startRedis({ port: await freePort() })]);
    repo = scoresRepo(dir, 'workers_s3', 'offline: { buckets: 4 }\nqueue: { ranges_per_view: 4, concurrency: 1, attempts: 2 }\n');
    env = {
      FEATURELAKE_LAKE_URI: `s3://${s3.bucket}/${prefix}`,
      FEATURELAKE_S3_ENDPOINT: s3.endpoint,
      AWS_ACCESS_KEY_ID: s3.accessKeyId,
      AWS_SECRET_ACCESS_KEY: s3.secretAccessKey,
      FEATURELAKE_ONLINE_TYPE: 'redis',
      FEATURELAKE_REDIS_URL: redis.url,
    };
    await writeFile(join(dir, 'events.parquet'), `SELECT range AS user_id, TIMESTAMP '2026-01-01' + to_seconds(range % 1000) AS ts, (range * 7 % 1000) / 10 AS score FROM range(${ENTITIES})`);
    expect((await featurelakeAsync(repo, ['apply'], env)).status).toBe(0);
    expect((await featurelakeAsync(repo, ['ingest', 'events', join(dir, 'events.parquet')], env)).status).toBe(0);
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    const server = spawn(process.execPath, [BIN, '--repo', repo, 'serve', '--port', String(port), '--no-worker'], { env: { ...cleanEnv(), ...env, FEATURELAKE_STATE_DIR: join(dir, 'server-state') }, stdio: 'ignore' });
    children.push(server);
    await waitForHealth(url, server);
    for (const name of ['worker-a', 'worker-b']) children.push(startWorker(name));
  }, 120_000);

  afterAll(async () => {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
    await Promise.all([s3.stop(), redis.stop()]);
    rmSync(dir, { recursive: true, force: true });
  });

  function startWorker(name: string, extra: NodeJS.ProcessEnv = {}): ChildProcess {
    return spawn(process.execPath, [BIN, '--repo', repo, 'worker'], { env: { ...cleanEnv(), ...env, FEATURELAKE_STATE_DIR: join(dir, `${name}-state`), ...extra }, stdio: 'ignore' });
  }

  const post = (path: string, body: string, type = 'application/json') => fetch(`${url}${path}`, { method: 'POST', headers: { 'content-type': type }, body });

  it('materializes on the workers, and runs retrievals, training sets and ingests there, leaving nothing in scratch/', async () => {
    const job = await post('/materialize', JSON.stringify({ start_ts: '2026-01-01T00:00:00Z', end_ts: '2026-02-01T00:00:00Z' }));
    expect(job.status).toBe(200);
    expect(await job.json()).toMatchObject({ state: 'succeeded' });
    const sample = [0, 17, 4_999, ENTITIES - 1];
    expect(await onlineScores(url, sample)).toEqual(sample.map(score));
    const upload = await post('/get-historical-features/upload?features=scores:score&format=csv', `user_id,event_timestamp\n${sample.map((u) => `${u},${AT}`).join('\n')}\n`, 'text/csv');
    expect(upload.status).toBe(200);
    expect((await upload.text()).trim().split('\n').slice(1).map((l) => Number(l.split(',').at(-1)))).toEqual(sample.map(score));
    expect((await post('/training-sets', JSON.stringify({ name: 'on_s3', features: ['scores:score'], entities: { user_id: sample, event_timestamp: sample.map(() => AT) } }))).status).toBe(201);
    expect(await (await post('/training-sets/on_s3/verify', '')).json()).toMatchObject({ identical: true, rows: sample.length });
    const ingest = await post('/datasets/events/files', `{"user_id": ${ENTITIES + 5}, "ts": "2026-01-05T00:00:00", "score": 4.5}\n`, 'application/x-ndjson');
    expect(ingest.status).toBe(201);
    const lake = objectStore('s3', join(dir, 'probe'), s3, prefix);
    expect(await lake.list('scratch/')).toEqual([]);
  }, 120_000);

  it('a worker that cannot reach the lake fails the task with LAKE_UNAVAILABLE, and the job says which task', async () => {
    for (const child of children.slice(1)) if (child.exitCode === null) await new Promise((resolve) => child.once('exit', resolve).kill('SIGTERM'));
    const closed = await freePort();
    children.push(startWorker('worker-blind', { FEATURELAKE_S3_ENDPOINT: `http://127.0.0.1:${closed}` }));
    const response = await post('/materialize?async=true', JSON.stringify({ start_ts: '2026-01-01T00:00:00Z', end_ts: '2026-02-02T00:00:00Z' }));
    expect(response.status).toBe(202);
    const { job_id: id } = (await response.json()) as { job_id: string };
    const job = await jobFinished(url, id);
    expect(job).toMatchObject({ state: 'failed', error: { code: 'LAKE_UNAVAILABLE', message: expect.stringContaining('its plan task failed'), details: { task: 'plan' } } });
    expect(job.error.message).toContain(`127.0.0.1:${closed}`);
    // With the blind worker gone and one that reaches the lake, the same job succeeds (its view was released).
    const blind = children.at(-1)!;
    await new Promise((resolve) => blind.once('exit', resolve).kill('SIGTERM'));
    children.push(startWorker('worker-c'));
    const again = await post('/materialize', JSON.stringify({ start_ts: '2026-01-01T00:00:00Z', end_ts: '2026-02-02T00:00:00Z' }));
    expect(await again.json()).toMatchObject({ state: 'succeeded' });
  }, 120_000);
});
