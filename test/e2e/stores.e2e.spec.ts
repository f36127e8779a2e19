import { INestApplication } from '@nestjs/common';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import request from 'supertest';
import { AppConfig } from '../../src/config/app-config';
import { ObjectStore } from '../../src/storage/object-store';
import Redis from 'ioredis';
import { Teardown } from '../../src/materialization/teardown';
import { RegistryService } from '../../src/registry/registry.service';
import { exampleRepo, FLIGHTS_3M, startApp } from '../support/app';
import { writeReplayedFlights } from '../support/duckdb-files';
import { errorOf } from '../support/errors';
import { freePort } from '../support/free-port';
import { startRedis, TestRedis } from '../support/redis-server';
import { startS3, TestS3 } from '../support/s3-server';

const AIRPORTS = ['ORD', 'ATL', 'DFW', 'LAX', 'DEN'];

/** Stores that lose data underneath the server: noticed, reported, and made whole again from the lake. */
describe.each(['local', 's3'] as const)('stores that notice loss (lake on %s)', (lake) => {
  let s3: TestS3 | undefined;
  let redis: TestRedis;
  let app: INestApplication;
  let config: AppConfig;
  let dir: string;
  let http: ReturnType<typeof request>;

  beforeAll(async () => {
    redis = await startRedis();
    if (lake === 's3') s3 = await startS3();
    ({ dir, config } = exampleRepo({ lake, online: 'redis' }, { redis, s3 }, 'loss'));
    app = await startApp(config);
    http = request(app.getHttpServer());
    await app.get(RegistryService).apply();
    await writeReplayedFlights(FLIGHTS_3M, join(dir, 'flights.parquet'), 5);
    await http.post('/datasets/flights/files').set('Content-Type', 'application/vnd.apache.parquet').send(readFileSync(join(dir, 'flights.parquet'))).expect(201);
    await http.post('/materialize-incremental').send({ end_ts: new Date().toISOString(), feature_views: ['airport_daily'] }).expect(200);
  });

  afterAll(async () => {
    await app?.close();
    await redis?.stop();
    await s3?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const statuses = async () => (await http.post('/get-online-features').send({ features: ['airport_daily:departures'], entities: { airport: AIRPORTS } }).expect(200)).body.results[1].statuses as string[];
  const metric = async (name: string) => {
    const { text } = await http.get('/metrics').expect(200);
    return text.split('\n').filter((l) => l.startsWith(name)).reduce((sum, l) => sum + Number(l.split(' ').pop()), 0);
  };
  const restartRedisEmpty = async () => {
    const port = redis.port;
    await redis.stop();
    redis = await startRedis({ port }); // nothing persisted: every key is gone
  };

  it('notices a Redis that came back empty at the next job, and writes every entity again', async () => {
    expect(await statuses()).toEqual(AIRPORTS.map(() => 'PRESENT'));
    await restartRedisEmpty();
    for (let i = 0; i < 100 && (await http.post('/get-online-features').send({ features: ['airport_daily:departures'], entities: { airport: AIRPORTS } })).status !== 200; i++) await new Promise((r) => setTimeout(r, 50));
    expect(await statuses()).toEqual(AIRPORTS.map(() => 'NOT_FOUND'));
    // Nothing new in the lake: before, this run "succeeded" writing nothing and the view stayed empty online.
    const job = await http.post('/materialize-incremental').send({ end_ts: new Date().toISOString(), feature_views: ['airport_daily'] }).expect(200);
    expect(job.body.views[0]).toMatchObject({ note: expect.stringMatching(/the online store had lost this view/), rows_online: expect.any(Number) });
    expect(job.body.views[0].rows_online).toBeGreaterThan(100);
    expect(await statuses()).toEqual(AIRPORTS.map(() => 'PRESENT'));
    expect(await metric('featurelake_online_store_loss_detected_total{view="airport_daily"}')).toBe(1);
  });

  it('notices it at start-up too, and rewrites the lost views with an online-restore job', async () => {
    await app.close();
    await restartRedisEmpty();
    app = await startApp(config);
    http = request(app.getHttpServer());
    let restore: { state: string; kind: string; feature_views: string[] } | undefined;
    for (let i = 0; i < 200 && restore?.state !== 'succeeded'; i++) {
      restore = (await http.get('/jobs').expect(200)).body.jobs.find((j: { kind: string }) => j.kind === 'online-restore');
      if (restore?.state !== 'succeeded') await new Promise((r) => setTimeout(r, 50));
    }
    expect(restore).toMatchObject({ kind: 'online-restore', state: 'succeeded', feature_views: ['airport_daily'] });
    expect(await statuses()).toEqual(AIRPORTS.map(() => 'PRESENT'));
  });

  it('rebuilds a view whose offline rows were deleted from the lake from its source data, at the next run', async () => {
    const objects = app.get(ObjectStore);
    const keys = await objects.list('views/airport_daily/');
    expect(keys.some((k) => k.endsWith('.parquet'))).toBe(true);
    await objects.delete(keys);
    const training = () => http.post('/get-historical-features').send({ features: ['airport_daily:departures'], entities: { airport: ['ORD'], event_timestamp: [new Date().toISOString()] } });
    expect((await training().expect(409)).body.code).toBe('FEATURE_VIEW_NOT_MATERIALIZED');
    const job = await http.post('/materialize-incremental').send({ end_ts: new Date().toISOString(), feature_views: ['airport_daily'] }).expect(200);
    expect(job.body).toMatchObject({ state: 'succeeded', views: [{ start: null }] }); // a first run again: the view's state went with its files
    expect((await training().expect(200)).body.results[2].statuses).toEqual(['PRESENT']);
    expect(await statuses()).toEqual(AIRPORTS.map(() => 'PRESENT'));
  });

  it('tears down: the project keys leave Redis and the views leave the lake, the datasets stay, and a run rebuilds both', async () => {
    const objects = app.get(ObjectStore);
    const client = new Redis(redis.url);
    try {
      const projectKeys = async () => (await client.keys('fl:*')).filter((k) => k.startsWith(`fl:${config.project}:`) || k.startsWith(`fl:~epoch:${config.project}:`));
      const before = (await projectKeys()).length;
      expect(before).toBeGreaterThan(AIRPORTS.length);
      await client.set(`fl:${config.project}_other:x`, '1'); // another project's key, which teardown must leave
      const result = await app.get(Teardown).run(true);
      expect(result).toMatchObject({ project: config.project, onlineKeys: before, offlineViews: 1 });
      expect(await projectKeys()).toEqual([]);
      expect(await client.get(`fl:${config.project}_other:x`)).toBe('1');
      expect(await objects.list('views/')).toEqual([]);
      expect((await objects.list('datasets/flights/')).length).toBeGreaterThan(1);
      expect(await statuses()).toEqual(AIRPORTS.map(() => 'NOT_FOUND'));
      const job = await http.post('/materialize-incremental').send({ end_ts: new Date().toISOString(), feature_views: ['airport_daily'] }).expect(200);
      expect(job.body).toMatchObject({ state: 'succeeded', views: [{ start: null }] });
      expect(await statuses()).toEqual(AIRPORTS.map(() => 'PRESENT'));
    } finally {
      client.disconnect();
    }
  });
});

/** A Redis Cluster none of whose nodes answers: /health and online reads answer within their deadlines instead of hanging. */
describe('a Redis Cluster with no node reachable', () => {
  let app: INestApplication;
  let dir: string;

  beforeAll(async () => {
    const url = `redis://127.0.0.1:${await freePort()},redis://127.0.0.1:${await freePort()}`;
    const repo = exampleRepo({ lake: 'local', online: 'embedded' }, {}, 'nocluster', { FEATURELAKE_ONLINE_TYPE: 'redis', FEATURELAKE_REDIS_URL: url, FEATURELAKE_REDIS_CLUSTER: 'true', FEATURELAKE_REDIS_TIMEOUT_MS: '300' });
    dir = repo.dir;
    app = await startApp(repo.config);
    await app.get(RegistryService).apply();
  });

  afterAll(async () => {
    await app?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers /health 503 degraded within limits.health_timeout_ms, and online reads 503 within their deadline', async () => {
    const http = request(app.getHttpServer());
    let started = Date.now();
    const health = await http.get('/health');
    expect([health.status, health.body]).toEqual([503, { status: 'degraded' }]);
    expect(Date.now() - started).toBeLessThan(2000 + 3000);
    started = Date.now();
    const read = await http.post('/get-online-features').send({ features: ['airport_daily:avg_delay'], entities: { airport: ['ORD'] } });
    expect([read.status, errorOf(read).code]).toEqual([503, 'ONLINE_STORE_UNAVAILABLE']);
    expect(Date.now() - started).toBeLessThan(300 * 2 + 1000 + 3000);
    const details = await http.get('/health/details').expect(503);
    expect(details.body.online_store).toMatchObject({ ok: false, error: expect.stringMatching(/no answer within|Redis/) });
  });
});
