import { INestApplication } from '@nestjs/common';
import { appendFileSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import request from 'supertest';
import { AppConfig } from '../../src/config/app-config';
import { SkewResult } from '../../src/core/skew/skew-result';
import { RegistryService } from '../../src/registry/registry.service';
import { AIRPORTS_CSV, exampleRepo, FLIGHTS_3M, startApp } from '../support/app';
import { query, writeReplayedFlights } from '../support/duckdb-files';
import { startRedis, TestRedis } from '../support/redis-server';
import { startS3, TestS3 } from '../support/s3-server';
import { perturbOnline, startWebhookReceiver } from '../support/skew-demo';

const ROWS = 1500;
const BATCH = 100;

/**
 * The skew demonstration, on real flights, Redis, the S3 protocol and DuckDB: a training set;
 * a window of served requests in which avg_delay's online values carry Gaussian noise; a
 * graceful restart (the feature log must survive it); then the checks must flag avg_delay —
 * and only avg_delay — for drift and for served values that differ from offline.
 */
describe('skew checks end to end (S3 lake, Redis online store)', () => {
  let s3: TestS3;
  let redis: TestRedis;
  let app: INestApplication;
  let config: AppConfig;
  let dir: string;
  let http: ReturnType<typeof request>;
  let hook: Awaited<ReturnType<typeof startWebhookReceiver>>;
  let entities: { airport: string[]; origin: string[]; destination: string[] };
  let result: SkewResult;

  beforeAll(async () => {
    [s3, redis, hook] = await Promise.all([startS3(), startRedis(), startWebhookReceiver()]);
    // The receiver is allowed as a prefix: a request may name it, and nothing else, as its webhook.
    const repo = exampleRepo({ lake: 's3', online: 'redis' }, { s3, redis }, 'skew', { FEATURELAKE_WEBHOOK_ALLOWLIST: `${new URL(hook.url).origin}/` });
    dir = repo.dir;
    config = repo.config;
    app = await startApp(config);
    http = request(app.getHttpServer());
    await app.get(RegistryService).apply();
    await writeReplayedFlights(FLIGHTS_3M, join(dir, 'flights.parquet'), 10);
    await http.post('/datasets/flights/files').set('Content-Type', 'application/vnd.apache.parquet').send(readFileSync(join(dir, 'flights.parquet'))).expect(201);
    await http.post('/datasets/airports/files').set('Content-Type', 'text/csv').send(readFileSync(AIRPORTS_CSV)).expect(201);
    await http.post('/materialize-incremental').send({ end_ts: new Date().toISOString() }).expect(200);
    const flights = await query(`
      SELECT origin, destination FROM (
        SELECT origin, destination FROM read_parquet('${join(dir, 'flights.parquet')}')
        WHERE date >= (SELECT max(date)::DATE FROM read_parquet('${join(dir, 'flights.parquet')}'))
      ) USING SAMPLE reservoir(${ROWS} ROWS) REPEATABLE (42)`);
    entities = { airport: flights.map((f) => String(f.origin)), origin: flights.map((f) => String(f.origin)), destination: flights.map((f) => String(f.destination)) };
  }, 240_000);

  afterAll(async () => {
    await app?.close();
    await Promise.all([redis?.stop(), s3?.stop(), hook?.stop()]);
    rmSync(dir, { recursive: true, force: true });
  });

  it('builds the reference: a training set of the flights, as of now', async () => {
    const now = new Date().toISOString();
    const saved = await http
      .post('/training-sets')
      .send({ name: 'delay_reference', feature_service: 'delay_model', entities: { ...entities, event_timestamp: entities.airport.map(() => now) } })
      .expect(201);
    expect(saved.body.row_count).toBe(ROWS);
  }, 60_000);

  it('serves the same flights with noisy avg_delay online, and keeps the log through a graceful restart', async () => {
    const perturbed = await perturbOnline(app, 'airport_daily', 'avg_delay', [...new Set(entities.airport)], 1.0);
    expect(perturbed).toBeGreaterThan(50);
    for (let start = 0; start < ROWS; start += BATCH) {
      const slice = (values: string[]) => values.slice(start, start + BATCH);
      await http
        .post('/get-online-features')
        .send({ feature_service: 'delay_model', entities: { airport: slice(entities.airport), origin: slice(entities.origin), destination: slice(entities.destination) } })
        .expect(200);
    }
    await app.close(); // flushes the feature log: nothing may be lost
    app = await startApp(config);
    http = request(app.getHttpServer());
    const datasets = await http.get('/datasets').expect(200);
    const log = datasets.body.datasets.find((d: { name: string }) => d.name.startsWith('_log_delay_model_'));
    expect(log.row_count).toBe(ROWS);
  }, 120_000);

  it('flags avg_delay, and nothing else, for drift and for inconsistent served values; calls the webhook', async () => {
    const elsewhere = `http://127.0.0.1:${Number(new URL(hook.url).port) + 1}/internal`;
    const refused = await http
      .post('/skew-checks')
      .send({ reference: { training_set: 'delay_reference' }, current: { serving_logs: { feature_service: 'delay_model', last: '1h' } }, webhook: elsewhere })
      .expect(403);
    expect(refused.body).toMatchObject({ code: 'WEBHOOK_NOT_ALLOWED', message: expect.stringContaining('monitoring.webhook_allowlist'), details: { field: 'webhook' } });
    const response = await http
      .post('/skew-checks')
      .send({ name: 'demo', reference: { training_set: 'delay_reference' }, current: { serving_logs: { feature_service: 'delay_model', last: '1h' } }, webhook: hook.url })
      .expect(201);
    result = response.body;
    expect(result).toMatchObject({ format: 1, name: 'demo', status: 'failed', checks: ['consistency', 'distribution', 'schema'] });
    expect(result.reference).toMatchObject({ kind: 'training_set', rows: ROWS });
    expect(result.current).toMatchObject({ kind: 'serving_logs', rows: ROWS });

    const drift = result.distribution!;
    expect(drift.features.map((f) => f.feature).sort()).toEqual(
      ['airport_daily:avg_delay', 'airport_daily:departures', 'airport_info:latitude', 'airport_info:longitude', 'airport_info:state', 'route_weekly:route_avg_delay_7d', 'route_weekly:route_flights_7d', 'route_weekly:route_late_share_7d'].sort(),
    );
    expect(drift.features.filter((f) => f.drifted).map((f) => f.feature)).toEqual(['airport_daily:avg_delay']);
    const avgDelay = drift.features.find((f) => f.feature === 'airport_daily:avg_delay')!;
    expect(avgDelay).toMatchObject({ method: 'wasserstein', kind: 'numerical' }); // > 1000 reference rows
    expect(avgDelay.score).toBeGreaterThan(0.1);
    expect(drift.features.find((f) => f.feature === 'airport_info:state')).toMatchObject({ method: 'jensenshannon', drifted: false });
    expect(drift.dataset_drift).toBe(false);

    const consistency = result.consistency!;
    expect(consistency.rows).toBe(ROWS);
    const inconsistent = consistency.features.filter((f) => !f.passed);
    expect(inconsistent.map((f) => f.feature)).toEqual(['airport_daily:avg_delay']);
    expect(inconsistent[0].mismatches).toBeGreaterThan(ROWS * 0.9);
    expect(inconsistent[0].smape).toBeGreaterThan(1);
    expect(inconsistent[0].examples.length).toBeGreaterThan(0);
    expect(consistency.features.filter((f) => f.passed).every((f) => f.mismatches === 0 && f.missing === 0 && f.extra === 0)).toBe(true);

    expect(result.schema).toMatchObject({ passed: true, issues: [] });
    expect(hook.bodies).toEqual([expect.objectContaining({ event: 'skew_check_failed', check: 'demo', id: result.id, drifted_features: ['airport_daily:avg_delay'], inconsistent_features: ['airport_daily:avg_delay'] })]);
  }, 120_000);

  it('keeps the result and a self-contained HTML report, and exports gauges on /metrics', async () => {
    expect((await http.get(`/skew-checks/${result.id}`).expect(200)).body).toEqual(result);
    const listed = await http.get('/skew-checks?name=demo').expect(200);
    expect(listed.body.skew_checks.map((r: { id: string }) => r.id)).toEqual([result.id]);
    const report = await http.get(`/skew-checks/${result.id}/report`).expect(200).expect('content-type', /text\/html/);
    expect(report.text).toContain('airport_daily:avg_delay');
    expect(report.text.match(/<svg /g)?.length).toBe(8);
    expect(report.text).not.toMatch(/<script|src="http|href="http/);
    const metrics = await http.get('/metrics').expect(200);
    expect(metrics.text).toContain('featurelake_skew_check_passed{check="demo"} 0');
    expect(metrics.text).toContain('featurelake_skew_feature_drifted{check="demo",feature="airport_daily:avg_delay"} 1');
    expect(metrics.text).toContain('featurelake_skew_feature_drifted{check="demo",feature="airport_daily:departures"} 0');
    expect(metrics.text).toMatch(/featurelake_skew_inconsistent_rate\{check="demo",feature="airport_daily:avg_delay"\} 0\.9\d*|featurelake_skew_inconsistent_rate\{check="demo",feature="airport_daily:avg_delay"\} 1/);
  });

  it('compares a dataset snapshot with a feature view window, and finds schema skew between them', async () => {
    const response = await http
      .post('/skew-checks')
      .send({ reference: { feature_view: { name: 'airport_daily' } }, current: { feature_view: { name: 'airport_daily', last: '3d' } }, checks: ['distribution', 'schema'] })
      .expect(201);
    expect(response.body.distribution.features.map((f: { feature: string }) => f.feature)).toEqual(['airport_daily:avg_delay', 'airport_daily:departures']);
    expect(response.body.current.rows).toBeLessThan(response.body.reference.rows);
    const schema = await http
      .post('/skew-checks')
      .send({ reference: { dataset: 'flights' }, current: { training_set: 'delay_reference' }, checks: ['schema'] })
      .expect(201);
    const issues = schema.body.schema.issues.map((i: { feature: string; issue: string }) => `${i.issue}:${i.feature}`);
    expect(issues).toContain('missing_in_current:delay');
    expect(issues).toContain('missing_in_reference:airport_daily:avg_delay');
  }, 60_000);

  it('runs checks declared in the feature repo on their schedule', async () => {
    appendFileSync(
      join(config.repoDir, 'flights.yaml'),
      `  - name: every_second\n    every: 1s\n    current: { serving_logs: { feature_service: delay_model, last: 1h } }\n    checks: [consistency]\n`,
    );
    await app.get(RegistryService).apply();
    const deadline = Date.now() + 20_000;
    let runs: { status: string }[] = [];
    while (Date.now() < deadline && runs.length === 0) {
      await new Promise((resolve) => setTimeout(resolve, 500));
      runs = (await http.get('/skew-checks?name=every_second').expect(200)).body.skew_checks;
    }
    expect(runs[0]).toMatchObject({ status: 'failed', current: 'serving logs of delay_model' });
  }, 30_000);

  it('rejects bad requests with a stable code naming the field', async () => {
    const bad = async (body: unknown, status: number, code: string, field?: string) => {
      const response = await http.post('/skew-checks').send(body as object).expect(status);
      expect(response.body.code).toBe(code);
      if (field) expect(response.body.details.field).toBe(field);
    };
    await bad({ current: { serving_logs: { feature_service: 'delay_model', last: 'soon' } } }, 400, 'VALIDATION_FAILED', 'current.serving_logs.last');
    await bad({ current: { training_set: 'delay_reference' } }, 400, 'VALIDATION_FAILED', 'reference');
    await bad({ current: { warehouse: 'x' } }, 400, 'VALIDATION_FAILED', 'current');
    await bad({ current: { training_set: 'delay_reference' }, reference: { training_set: 'delay_reference' }, drift_share: 2 }, 400, 'VALIDATION_FAILED', 'drift_share');
    await bad({ reference: { training_set: 'nope' }, current: { training_set: 'delay_reference' } }, 404, 'TRAINING_SET_NOT_FOUND');
    await bad({ current: { serving_logs: { feature_service: 'delay_model', end: '2001-01-01T00:00:00Z' } } }, 422, 'SKEW_SIDE_EMPTY');
    await http.get('/skew-checks/20260101T000000Z-abcdef').expect(404);
    await http.get('/skew-checks/..%2F..%2Fetc').expect(404);
    await http.get('/health').expect(200);
  });
});
