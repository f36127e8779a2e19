import { INestApplication } from '@nestjs/common';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { AppConfig } from '../../src/config/app-config';
import { loadConfig } from '../../src/config/load-config';
import { Job } from '../../src/materialization/job';
import { JobStore } from '../../src/materialization/job.store';
import { newJobId } from '../../src/materialization/lake.job-store';
import { OfflineStore } from '../../src/offline-store/offline-store';
import { RegistryService } from '../../src/registry/registry.service';
import { FLIGHTS_3M, startApp } from '../support/app';
import { errorOf } from '../support/errors';
import { query } from '../support/duckdb-files';

const REPO = `
entities:
  - { name: airport, join_keys: [airport], value_type: string }
datasets:
  - { name: flights, timestamp_field: date }
feature_views:
  - name: daily
    entities: [airport]
    source: flights
    sql: SELECT origin AS airport, date_trunc('day', date) + INTERVAL 1 DAY AS event_timestamp, count(*) AS departures FROM flights GROUP BY ALL
    features: [{ name: departures, type: int64 }]
  - name: heavy
    entities: [airport]
    source: flights
    description: deliberately slow (every flight counted 400 times) so a job can be caught running
    sql: SELECT origin AS airport, date_trunc('day', date) AS event_timestamp, count(*) AS n FROM flights, range(400) GROUP BY ALL
    features: [{ name: n, type: int64 }]
  - name: broken
    entities: [airport]
    source: flights
    description: its SQL returns text for an int64 feature, so materializing it fails
    sql: SELECT origin AS airport, date AS event_timestamp, 'many' AS count_text FROM flights
    features: [{ name: count_text, type: int64 }]
`;

/** Materialization as jobs over HTTP: async runs, the job API, exclusion, cancellation, history across restarts. */
describe('materialization jobs over HTTP', () => {
  let dir: string;
  let config: AppConfig;
  let app: INestApplication;
  let http: ReturnType<typeof request>;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'fl-jobs-'));
    const repo = join(dir, 'repo');
    mkdirSync(repo);
    writeFileSync(join(repo, 'featurelake.yaml'), 'project: jobs\nlake:\n  uri: file://../lake\nstate_dir: ..\n');
    writeFileSync(join(repo, 'defs.yaml'), REPO);
    config = loadConfig(repo, {});
    app = await startApp(config);
    http = request(app.getHttpServer());
    await app.get(RegistryService).apply();
    await http.post('/datasets/flights/files').set('Content-Type', 'application/vnd.apache.parquet').send(readFileSync(FLIGHTS_3M)).expect(201);
  });

  afterAll(async () => {
    await app?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function until(id: string, states: string[]): Promise<Record<string, unknown>> {
    for (let i = 0; i < 600; i++) {
      const { body } = await http.get(`/jobs/${id}`).expect(200);
      if (states.includes(body.state)) return body;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`job ${id} never reached ${states.join('/')}`);
  }

  it('runs asynchronously: 202 with the job, then its state, rows, timings and progress through /jobs', async () => {
    const accepted = await http.post('/materialize-incremental?async=true').send({ end_ts: '2001-08-01T00:00:00Z', feature_views: ['daily'] }).expect(202);
    expect(accepted.body).toMatchObject({ kind: 'materialize-incremental', feature_views: ['daily'], state: expect.stringMatching(/queued|running/) });
    const done = await until(accepted.body.job_id, ['succeeded', 'failed']);
    expect(done).toMatchObject({
      state: 'succeeded',
      rows: { source: 3_000_000, new: 3_000_000, offline_written: 39_952, online_written: 229 },
      progress: { fraction: 1 },
      views: [{ name: 'daily', state: 'done', source_snapshot: 1, start: null, end: '2001-08-01T00:00:00Z' }],
      error: null,
    });
    expect(Date.parse(done.finished_at as string)).toBeGreaterThanOrEqual(Date.parse(done.started_at as string));
    const list = await http.get('/jobs').expect(200);
    expect(list.body.jobs[0].job_id).toBe(accepted.body.job_id);
  });

  it('refuses a second job on a view while one runs (409 naming it), queues a disjoint one, and cancels both kinds', async () => {
    const running = await http.post('/materialize?async=true').send({ start_ts: '2001-01-01', end_ts: '2001-08-01', feature_views: ['heavy'] }).expect(202);
    await until(running.body.job_id, ['running']);
    await new Promise((r) => setTimeout(r, 400)); // well inside its long offline statement
    const refused = await http.post('/materialize-incremental').send({ end_ts: '2001-08-01', feature_views: ['daily', 'heavy'] }).expect(409);
    // Feast's route: the code in X-Error-Code, the message names the job and the view.
    expect(errorOf(refused)).toMatchObject({ code: 'MATERIALIZATION_IN_PROGRESS', message: expect.stringContaining(running.body.job_id) });
    expect(errorOf(refused).message).toContain('heavy');
    const queued = await http.post('/materialize?async=true').send({ start_ts: '2001-01-01', end_ts: '2001-08-01', feature_views: ['daily'] }).expect(202);
    expect(queued.body.state).toBe('queued');
    const cancelledQueued = await http.post(`/jobs/${queued.body.job_id}/cancel`).expect(200);
    expect(cancelledQueued.body).toMatchObject({ state: 'cancelled', error: { code: 'JOB_CANCELLED' } });
    const cancelledRunning = await http.post(`/jobs/${running.body.job_id}/cancel`).expect(200);
    expect(cancelledRunning.body).toMatchObject({ state: 'cancelled', views: [{ name: 'heavy', state: 'cancelled' }] });
    expect(cancelledRunning.body.duration_ms).toBeGreaterThanOrEqual(400);
    await http.post(`/jobs/${running.body.job_id}/cancel`).expect(409);
    // The interrupted statement was rolled back: the heavy view has no rows and no state.
    const catalog = await app.get(RegistryService).catalog();
    expect(await app.get(OfflineStore).viewState(catalog.view('heavy'))).toEqual({ buckets: 16, consumedSnapshot: null, watermark: null, pendingBuckets: 0, onlineEpoch: null, hasRows: false });
  });

  it('answers a synchronous run with the finished job, and a failed one with its error and job id', async () => {
    const done = await http.post('/materialize').send({ start_ts: '2001-01-01', end_ts: '2001-01-03', feature_views: ['daily'] }).expect(200);
    const [{ n }] = await query(`SELECT count(DISTINCT (origin, date_trunc('day', date)))::INTEGER AS n FROM read_parquet('${FLIGHTS_3M}') WHERE date < TIMESTAMP '2001-01-03'`);
    expect(done.body).toMatchObject({ state: 'succeeded', views: [{ rows_offline: n }] });
    const failed = await http.post('/materialize').send({ start_ts: '2001-01-01', end_ts: '2001-01-03', feature_views: ['broken'] }).expect(422);
    expect(errorOf(failed)).toMatchObject({ code: 'MATERIALIZATION_FAILED', message: expect.stringMatching(/broken/) });
    const recorded = await http.get(`/jobs/${failed.headers['x-job-id']}`).expect(200);
    expect(recorded.body).toMatchObject({ state: 'failed', error: { code: 'MATERIALIZATION_FAILED' } });
    await http.get('/jobs/nope').expect(404).expect((r) => expect(r.body.code).toBe('JOB_NOT_FOUND'));
    await http.get('/jobs?limit=0').expect(400);
    await http.post('/materialize?async=maybe').send({ start_ts: '2001-01-01', end_ts: '2001-01-03' }).expect(400);
  });

  it('keeps a failing view local: the other views of the job are materialized and the job ends partial', async () => {
    const answer = await http.post('/materialize').send({ start_ts: '2001-01-01', end_ts: '2001-01-05', feature_views: ['broken', 'daily'] }).expect(422);
    expect(errorOf(answer)).toMatchObject({ code: 'MATERIALIZATION_PARTIAL', message: expect.stringMatching(/1 of 2 feature views failed \(broken\)/) });
    const job = (await http.get(`/jobs/${answer.headers['x-job-id']}`).expect(200)).body;
    expect(job).toMatchObject({ state: 'partial', error: { code: 'MATERIALIZATION_PARTIAL' } });
    expect(job.views.map((v: { name: string; state: string; error: { code: string } | null }) => [v.name, v.state, v.error?.code ?? null])).toEqual([
      ['broken', 'failed', 'MATERIALIZATION_FAILED'],
      ['daily', 'done', null],
    ]);
    const online = await http.post('/get-online-features').send({ features: ['daily:departures'], entities: { airport: ['ORD'] } }).expect(200);
    expect(online.body.results[1]).toMatchObject({ statuses: ['PRESENT'], values: [expect.any(Number)] }); // daily went online
  });

  it('keeps the job history across a restart, and marks jobs a dead process left running as failed', async () => {
    const before = (await http.get('/jobs').expect(200)).body.jobs.map((j: { job_id: string }) => j.job_id);
    const orphan: Job = { ...(await app.get(JobStore).get(before[0]))!, id: newJobId(), state: 'running', createdAt: new Date().toISOString(), finishedAt: null };
    await app.get(JobStore).save(orphan);
    await app.close();
    app = await startApp(config);
    http = request(app.getHttpServer());
    const after = (await http.get('/jobs').expect(200)).body.jobs;
    expect(after.map((j: { job_id: string }) => j.job_id)).toEqual([orphan.id, ...before]);
    expect(after).toHaveLength(7);
    expect(after[0]).toMatchObject({ state: 'failed', error: { code: 'JOB_INTERRUPTED' } });
  });
});
