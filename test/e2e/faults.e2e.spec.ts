import { INestApplication } from '@nestjs/common';
import { rmSync } from 'node:fs';
import request from 'supertest';
import { RegistryService } from '../../src/registry/registry.service';
import { exampleRepo, startApp } from '../support/app';
import { errorOf } from '../support/errors';
import { FaultyProxy, startFaultyProxy } from '../support/faulty-proxy';
import { startRedis, TestRedis } from '../support/redis-server';
import { startS3, TestS3 } from '../support/s3-server';

const REDIS_TIMEOUT_MS = 300;
const S3_TIMEOUT_MS = 500;
const minutesAgo = (m: number) => new Date(Date.now() - m * 60_000).toISOString();
const conditions = (airports: string[], visibility: number) => ({
  airport: airports,
  observed_at: airports.map(() => minutesAgo(5)),
  visibility_miles: airports.map(() => visibility),
  wind_knots: airports.map(() => 10),
  ground_stop: airports.map(() => false),
});
const CSV = 'airport,observed_at,visibility_miles,wind_knots,ground_stop\nORD,2026-01-01T00:00:00Z,1.5,20,true\n';

/** Redis and S3 failing under a running server: clear, bounded failures, nothing half-done, and recovery by itself. */
describe('faults in the online store and the lake', () => {
  let s3: TestS3;
  let redis: TestRedis;
  let proxy: FaultyProxy;
  let app: INestApplication;
  let dir: string;
  let http: ReturnType<typeof request>;

  beforeAll(async () => {
    [s3, redis] = await Promise.all([startS3(), startRedis()]);
    proxy = await startFaultyProxy(s3.endpoint);
    const env = { FEATURELAKE_S3_ENDPOINT: proxy.url, FEATURELAKE_S3_TIMEOUT_MS: String(S3_TIMEOUT_MS), FEATURELAKE_REDIS_TIMEOUT_MS: String(REDIS_TIMEOUT_MS) };
    const repo = exampleRepo({ lake: 's3', online: 'redis' }, { s3, redis }, 'faults', env);
    dir = repo.dir;
    app = await startApp(repo.config);
    http = request(app.getHttpServer());
    await app.get(RegistryService).apply();
    await http.post('/push').send({ push_source_name: 'airport_conditions_push', df: conditions(['ORD', 'ATL'], 7.5) }).expect(200);
  });

  afterAll(async () => {
    await app?.close();
    await Promise.all([redis?.stop(), proxy?.stop()]);
    await s3?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const read = () => http.post('/get-online-features').send({ features: ['airport_conditions:visibility_miles'], entities: { airport: ['ORD', 'ATL'] } });
  const timed = async <T>(work: () => Promise<T>) => {
    const started = Date.now();
    const result = await work();
    return { result, ms: Date.now() - started };
  };
  const metric = async (name: string) => {
    const { text } = await http.get('/metrics').expect(200);
    return text.split('\n').filter((l) => l.startsWith(name)).reduce((sum, l) => sum + Number(l.split(' ').pop()), 0);
  };

  it('answers 503 ONLINE_STORE_UNAVAILABLE within the command timeout while Redis hangs, and serves again when it answers', async () => {
    redis.pause();
    try {
      const answers = await Promise.all(Array.from({ length: 5 }, () => timed(() => read())));
      for (const { result, ms } of answers) {
        expect([result.status, errorOf(result).code]).toEqual([503, 'ONLINE_STORE_UNAVAILABLE']);
        expect(ms).toBeLessThan(REDIS_TIMEOUT_MS + 1500);
      }
      expect((await http.get('/health').expect(503)).body).toEqual({ status: 'degraded' });
      const health = await http.get('/health/details').expect(503);
      expect(health.body).toMatchObject({ status: 'degraded', online_store: { ok: false, error: expect.any(String) }, lake: { ok: true } });
    } finally {
      redis.resume();
    }
    const { body } = await read().expect(200);
    expect(body.results[1]).toMatchObject({ values: [7.5, 7.5], statuses: ['PRESENT', 'PRESENT'] });
    await http.get('/health').expect(200);
  });

  it('fails fast while Redis is stopped, and recovers by itself when it is back', async () => {
    const port = redis.port;
    await redis.stop();
    for (let i = 0; i < 3; i++) {
      const { result, ms } = await timed(() => read());
      expect([result.status, errorOf(result).code]).toEqual([503, 'ONLINE_STORE_UNAVAILABLE']);
      expect(ms).toBeLessThan(REDIS_TIMEOUT_MS + 1500);
    }
    expect((await http.get('/health').expect(503)).body.status).toBe('degraded');
    expect(await metric('featurelake_redis_errors_total')).toBeGreaterThan(0);
    redis = await startRedis({ port }); // empty: nothing was persisted
    const deadline = Date.now() + 10_000;
    let status = 0;
    while (status !== 200 && Date.now() < deadline) {
      status = (await read()).status;
      if (status !== 200) await new Promise((r) => setTimeout(r, 100));
    }
    expect(status).toBe(200);
    await http.post('/push').send({ push_source_name: 'airport_conditions_push', df: conditions(['ORD'], 3) }).expect(200);
    expect((await read().expect(200)).body.results[1].values).toEqual([3, null]);
    await http.get('/health').expect(200);
  });

  it('retries S3 errors with backoff, so a flaky store loses no ingest', async () => {
    const before = await metric('featurelake_s3_request_errors_total');
    proxy.mode = 'flaky';
    try {
      const { body } = await http.post('/datasets/airport_conditions/files').set('content-type', 'text/csv').send(CSV);
      expect(body).toMatchObject({ dataset: 'airport_conditions' });
      expect(body).toMatchObject({ dataset: 'airport_conditions', added: { files: 1, rows: 1 } });
    } finally {
      proxy.mode = 'pass';
    }
    expect(proxy.counts.faults).toBeGreaterThan(0);
    expect(await metric('featurelake_s3_request_errors_total')).toBeGreaterThan(before);
  });

  it.each(['fail', 'hang'] as const)('answers 503 LAKE_UNAVAILABLE in bounded time when S3 does not recover (%s): no new snapshot, no training set', async (mode) => {
    const state = (await http.get('/datasets/airport_conditions').expect(200)).body;
    proxy.mode = mode;
    try {
      const { result, ms } = await timed(() => http.post('/datasets/airport_conditions/files').set('content-type', 'text/csv').send(CSV));
      expect([result.status, errorOf(result).code]).toEqual([503, 'LAKE_UNAVAILABLE']);
      expect(ms).toBeLessThan(20_000); // four attempts with backoff, twice (upload, then the clean-up)
      const push = await http.post('/push').send({ push_source_name: 'airport_conditions_push', df: conditions(['SFO'], 1), to: 'offline' });
      expect([push.status, errorOf(push).code]).toEqual([503, 'LAKE_UNAVAILABLE']);
      const save = await http.post('/training-sets').send({
        name: `conditions_${mode}`,
        features: ['airport_conditions:visibility_miles'],
        entities: { airport: ['ORD'], event_timestamp: ['2026-01-01T01:00:00Z'] },
      });
      expect([save.status, errorOf(save).code]).toEqual([503, 'LAKE_UNAVAILABLE']);
    } finally {
      proxy.mode = 'pass';
    }
    expect((await http.get('/datasets/airport_conditions').expect(200)).body).toEqual(state);
    await http.get(`/training-sets/conditions_${mode}`).expect(404);
    expect((await http.get('/training-sets').expect(200)).body.training_sets).toEqual([]);
    // The lake works again (the same bytes as an earlier ingest: added again on purpose).
    await http.post('/datasets/airport_conditions/files?allow_duplicate=true').set('content-type', 'text/csv').send(CSV).expect(201);
  });
});
