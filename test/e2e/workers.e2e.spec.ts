import { ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, openSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import Redis from 'ioredis';
import { BIN, cleanEnv, featurelake, waitForHealth } from '../support/cli';
import { writeFile } from '../support/duckdb-files';
import { errorOfFetch } from '../support/errors';
import { TASK_QUEUE } from '../../src/queue/bullmq.job-queue';
import { freePort } from '../support/free-port';
import { startRedis, TestRedis } from '../support/redis-server';
import { jobFinished, onlineScores, scoresRepo } from '../support/scores-repo';

const ENTITIES = 200_000;

/**
 * The compute tier for real: `serve --no-worker` submits to BullMQ on a private redis-server,
 * separate `featurelake worker` processes take the tasks. A worker killed with -9 mid-job
 * leaves its task to the others (BullMQ's stalled-job check, lock 2 s here); the queue's Redis
 * gone makes submission answer 503 at once while serving goes on.
 */
describe('workers on a BullMQ queue', () => {
  let dir: string;
  let repo: string;
  let online: TestRedis;
  let queue: TestRedis;
  let server: ChildProcess;
  let url: string;
  const workers: ChildProcess[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'fl-workers-'));
    [online, queue] = await Promise.all([startRedis({ port: await freePort() }), startRedis({ port: await freePort() })]);
    repo = scoresRepo(dir, 'workers', `offline: { buckets: 8 }\nonline: { type: redis, url: "${online.url}" }\nqueue: { url: "${queue.url}", lock_seconds: 2, ranges_per_view: 8, concurrency: 1 }\n`);
    await writeFile(join(dir, 'events.parquet'), `SELECT range AS user_id, TIMESTAMP '2026-01-01' + to_seconds(range % 1000) AS ts, (range * 7 % 1000) / 10 AS score FROM range(${ENTITIES})`);
    expect(featurelake(repo, ['apply']).status).toBe(0);
    expect(featurelake(repo, ['ingest', 'events', join(dir, 'events.parquet')]).status).toBe(0);
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    server = spawn(process.execPath, [BIN, '--repo', repo, 'serve', '--port', String(port), '--no-worker'], { env: cleanEnv(), stdio: 'ignore' });
    await waitForHealth(url, server);
  }, 120_000);

  afterAll(async () => {
    for (const child of [server, ...workers]) if (child?.exitCode === null) child.kill('SIGKILL');
    await Promise.all([online.stop(), queue.stop()]);
    if (process.env.KEEP_TEST_DIR) console.log(dir);
    else rmSync(dir, { recursive: true, force: true });
  });

  function startWorker(): ChildProcess {
    const log = openSync(join(dir, `worker-${workers.length + 1}.log`), 'w');
    const child = spawn(process.execPath, [BIN, '--repo', repo, 'worker'], { env: cleanEnv(), stdio: ['ignore', log, log] });
    workers.push(child);
    return child;
  }

  async function submit(path: string, body: unknown): Promise<Response> {
    return fetch(`${url}${path}?async=true`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  }



  it('a worker whose Redis is down exits 1 naming the URL', async () => {
    const port = await freePort();
    const result = featurelake(repo, ['worker'], { FEATURELAKE_QUEUE_URL: `redis://127.0.0.1:${port}` });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(`error [QUEUE_UNAVAILABLE]: cannot reach the job queue at redis://127.0.0.1:${port}`);
  });

  it('queues a job while no worker runs, and two workers then run its tasks; one killed with -9 mid-job leaves its task to the other', async () => {
    const response = await submit('/materialize-incremental', { end_ts: '2026-02-01T00:00:00Z' });
    expect(response.status).toBe(202);
    const { job_id: id } = (await response.json()) as { job_id: string };
    expect(((await (await fetch(`${url}/jobs/${id}`)).json()) as { state: string }).state).toBe('queued'); // nobody takes tasks yet
    const first = startWorker();
    startWorker();
    // Kill the first worker once the job is part-way through writing online.
    const client = new Redis(online.url);
    for (let i = 0; i < 3000 && (await client.dbsize()) < ENTITIES / 10; i++) await new Promise((r) => setTimeout(r, 20));
    first.kill('SIGKILL');
    const job = await jobFinished(url, id);
    client.disconnect();
    expect(job).toMatchObject({ state: 'succeeded', views: [{ name: 'scores', state: 'done' }] });
    // Every row counted once: the killed worker's buckets, committed before it died, count when its task runs again.
    expect(job.views[0].rows_offline).toBe(ENTITIES);
    // Online equals offline for every entity: each has its row (and the sample its value).
    const keys = new Redis(online.url);
    expect(await keys.dbsize()).toBe(ENTITIES + 1); // one hash per entity, plus the view's epoch marker
    keys.disconnect();
    const sample = [0, 1, 12_345, ENTITIES - 1];
    expect(await onlineScores(url, sample)).toEqual(sample.map((u) => ((u * 7) % 1000) / 10));
    // And a training set read from the lake sees each entity once: no half-written bucket is visible.
    const historical = await fetch(`${url}/get-historical-features`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ features: ['scores:score'], entities: { user_id: sample, event_timestamp: sample.map(() => '2026-03-01T00:00:00Z') } }),
    });
    expect(((await historical.json()) as { results: { values: unknown[] }[] }).results[2].values).toEqual(sample.map((u) => ((u * 7) % 1000) / 10));
  }, 180_000);

  /** Resolves once `n` workers take tasks from the queue (what the server sees when it splits a join). */
  async function workersConnected(n: number): Promise<void> {
    const tasks = new Queue(TASK_QUEUE, { connection: { host: '127.0.0.1', port: queue.port }, prefix: 'featurelake:workers:bull' });
    try {
      for (let i = 0; i < 600 && (await tasks.getWorkersCount()) < n; i++) await new Promise((r) => setTimeout(r, 100));
      expect(await tasks.getWorkersCount()).toBe(n);
    } finally {
      await tasks.close();
    }
  }

  it('splits a training set into parts over two workers: the same bytes as the CLI builds in one piece, verified', async () => {
    startWorker();
    await workersConnected(2);
    const post = (path: string, body: unknown) => fetch(`${url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    // The view's own dataset as entity rows: its score column and the feature need full names apart.
    const saved = await post('/training-sets', { name: 'split', features: ['scores:score'], full_feature_names: true, entity_dataset: { name: 'events' } });
    expect(saved.status).toBe(201);
    const split = (await saved.json()) as { row_count: number; parts: number; data: { sha256: string } };
    expect(split).toMatchObject({ row_count: ENTITIES, parts: 2 }); // one per worker (queue.join_parts: 4 at most)
    // In this process alone (the local queue): one piece.
    const cli = featurelake(repo, ['training-sets', 'save', 'whole', '--features', 'scores:score', '--full-feature-names', '--entity-dataset', 'events'], { FEATURELAKE_QUEUE_URL: 'local' });
    expect(cli.status).toBe(0);
    const whole = (await (await fetch(`${url}/training-sets/whole`)).json()) as { parts: number; data: { sha256: string } };
    expect(whole.parts).toBe(1);
    expect(split.data.sha256).toBe(whole.data.sha256);
    expect(await (await post('/training-sets/split/verify', {})).json()).toMatchObject({ identical: true, rows: ENTITIES });
    // Its parts rebuilt one after another in the CLI's process give the same bytes too.
    const verified = featurelake(repo, ['training-sets', 'verify', 'split'], { FEATURELAKE_QUEUE_URL: 'local' });
    expect(verified.status).toBe(0);
    // An uploaded entity file in parts too: in input order, each row its own value.
    const users = [150_001, 4, 99_999, 4, 0];
    const csv = `user_id,event_timestamp,label\n${users.map((u, i) => `${u},2026-03-01T00:00:00Z,${i}`).join('\n')}\n`;
    const upload = await fetch(`${url}/get-historical-features/upload?features=scores:score&format=csv`, { method: 'POST', headers: { 'content-type': 'text/csv' }, body: csv });
    expect(upload.status).toBe(200);
    const rows = (await upload.text()).trim().split('\n').slice(1).map((l) => l.split(','));
    expect(rows.map((r) => [Number(r[0]), Number(r[2]), Number(r.at(-1))])).toEqual(users.map((u, i) => [u, i, ((u * 7) % 1000) / 10]));
  }, 180_000);

  it('a second server replica, with its own state folder, shows the same jobs, offline rows and online values', async () => {
    const port = await freePort();
    const other = `http://127.0.0.1:${port}`;
    const replica = spawn(process.execPath, [BIN, '--repo', repo, 'serve', '--port', String(port), '--no-worker'], { env: { ...cleanEnv(), FEATURELAKE_STATE_DIR: join(dir, 'replica-state') }, stdio: 'ignore' });
    workers.push(replica);
    await waitForHealth(other, replica);
    const [mine, theirs] = await Promise.all([url, other].map(async (base) => (await (await fetch(`${base}/jobs`)).json()) as { jobs: { job_id: string; state: string }[] }));
    expect(theirs.jobs.map((j) => [j.job_id, j.state])).toEqual(mine.jobs.map((j) => [j.job_id, j.state]));
    const sample = [3, 77_777];
    const historical = await fetch(`${other}/get-historical-features`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ features: ['scores:score'], entities: { user_id: sample, event_timestamp: sample.map(() => '2026-03-01T00:00:00Z') } }),
    });
    expect(((await historical.json()) as { results: { values: unknown[] }[] }).results[2].values).toEqual(sample.map((u) => ((u * 7) % 1000) / 10));
    const read = await fetch(`${other}/get-online-features`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ features: ['scores:score'], entities: { user_id: sample } }) });
    expect(((await read.json()) as { results: { values: unknown[] }[] }).results[1].values).toEqual(await onlineScores(url, sample));
    replica.kill('SIGTERM');
  }, 60_000);

  it('runs historical retrieval, training sets, skew checks and ingests on a worker; without one they answer 503 NO_WORKER at once', async () => {
    const post = (path: string, body: string, type = 'application/json') => fetch(`${url}${path}`, { method: 'POST', headers: { 'content-type': type }, body });
    const sample = [4, 150_001];
    const expected = sample.map((u) => ((u * 7) % 1000) / 10);
    // An uploaded entity file travels to the worker through the lake, and the CSV result back.
    const upload = await post('/get-historical-features/upload?features=scores:score&format=csv', `user_id,event_timestamp\n${sample.join(',2026-03-01T00:00:00Z\n')},2026-03-01T00:00:00Z\n`, 'text/csv');
    expect(upload.status).toBe(200);
    const lines = (await upload.text()).trim().split('\n');
    expect(lines.slice(1).map((l) => Number(l.split(',').at(-1)))).toEqual(expected);
    const saved = await post('/training-sets', JSON.stringify({ name: 'on_worker', features: ['scores:score'], entities: { user_id: sample, event_timestamp: sample.map(() => '2026-03-01T00:00:00Z') } }));
    expect(saved.status).toBe(201);
    expect(await saved.json()).toMatchObject({ name: 'on_worker', row_count: 2 });
    expect(await (await post('/training-sets/on_worker/verify', '')).json()).toMatchObject({ identical: true, rows: 2 });
    const check = await post('/skew-checks', JSON.stringify({ reference: { dataset: 'events' }, current: { training_set: 'on_worker' }, checks: ['schema'] }));
    expect(check.status).toBe(201);
    expect(await check.json()).toMatchObject({ format: 1, checks: ['schema'] });
    const ingest = await post('/datasets/events/files', `{"user_id": ${ENTITIES + 10}, "ts": "2026-01-05T00:00:00", "score": 1.5}\n`, 'application/x-ndjson');
    expect(ingest.status).toBe(201);
    expect(await ingest.json()).toMatchObject({ added: { files: 1, rows: 1 } });
    expect(await (await fetch(`${url}/datasets/events`)).json()).toMatchObject({ latest: { row_count: ENTITIES + 1 } });

    const running = workers.filter((w) => w.exitCode === null && w.signalCode === null);
    await Promise.all(running.map((w) => new Promise((resolve) => w.once('exit', resolve).kill('SIGTERM'))));
    const started = Date.now();
    for (const [path, body] of [
      ['/get-historical-features', JSON.stringify({ features: ['scores:score'], entities: { user_id: sample, event_timestamp: sample.map(() => '2026-03-01T00:00:00Z') } })],
      ['/training-sets/on_worker/verify', ''],
    ]) {
      const refused = await post(path, body);
      expect(refused.status).toBe(503);
      expect(refused.headers.get('content-type')).toContain('json');
      expect(await refused.json()).toMatchObject({ code: 'NO_WORKER', message: expect.stringContaining('featurelake worker') });
    }
    expect(Date.now() - started).toBeLessThan(20_000); // generous (each waits 3 s for a worker to show): no waiting for the call itself
    startWorker();
  }, 120_000);

  it('reports a job whose tasks a restarted Redis lost as interrupted, and runs the next one once workers are back', async () => {
    for (const child of workers) if (child.exitCode === null) child.kill('SIGKILL'); // nobody takes the task
    const response = await submit('/materialize', { start_ts: '2026-01-01T00:00:00Z', end_ts: '2026-02-01T00:00:00Z' });
    const { job_id: lostId } = (await response.json()) as { job_id: string };
    await queue.stop(); // no persistence: the queued task goes with it
    queue = await startRedis({ port: queue.port });
    const lost = await jobFinished(url, lostId);
    expect(lost).toMatchObject({ state: 'failed', error: { code: 'JOB_INTERRUPTED' } });
    startWorker();
    const again = await submit('/materialize', { start_ts: '2026-01-01T00:00:00Z', end_ts: '2026-02-01T00:00:00Z' });
    expect(again.status).toBe(202); // the lost job's views were released
    expect(await jobFinished(url, ((await again.json()) as { job_id: string }).job_id)).toMatchObject({ state: 'succeeded' });
    expect(await onlineScores(url, [5])).toEqual([3.5]);
  }, 120_000);

  it('answers 503 QUEUE_UNAVAILABLE at once when the queue is down, and keeps serving', async () => {
    await queue.stop();
    const started = Date.now();
    const response = await submit('/materialize-incremental', { end_ts: '2026-02-02T00:00:00Z' });
    expect(response.status).toBe(503);
    expect((await errorOfFetch(response)).code).toBe('QUEUE_UNAVAILABLE');
    expect(Date.now() - started).toBeLessThan(10_000); // generous: "at once" means no waiting for Redis to come back
    expect(await onlineScores(url, [7])).toEqual([4.9]);
  }, 60_000);
});
