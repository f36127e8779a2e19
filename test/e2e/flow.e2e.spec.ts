import { INestApplication } from '@nestjs/common';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import request from 'supertest';
import { RegistryService } from '../../src/registry/registry.service';
import { AIRPORTS_CSV, Backends, exampleRepo, FLIGHTS_3M, startApp } from '../support/app';
import { query, writeReplayedFlights } from '../support/duckdb-files';
import { startRedisCluster, TestRedisCluster } from '../support/redis-cluster';
import { startRedis, TestRedis } from '../support/redis-server';
import { startS3, TestS3 } from '../support/s3-server';

const COMBINATIONS: Backends[] = [
  { lake: 'local', online: 'embedded' },
  { lake: 's3', online: 'redis' },
  { lake: 'local', online: 'redis-cluster' },
];

const AIRPORTS = ['ORD', 'ATL', 'DFW', 'LAX', 'ZZZ'];
const ROUTES = [['ORD', 'LGA'], ['ATL', 'MCO'], ['DFW', 'IAH'], ['LAX', 'SFO'], ['ZZZ', 'YYY']];

/** The whole path over HTTP on real flights: ingest → materialize → online and historical reads. */
describe.each(COMBINATIONS)('end to end over HTTP: lake on $lake, online store $online', (backends) => {
  let s3: TestS3 | undefined;
  let redis: TestRedis | undefined;
  let cluster: TestRedisCluster | undefined;
  let app: INestApplication;
  let dir: string;
  let http: ReturnType<typeof request>;

  beforeAll(async () => {
    if (backends.lake === 's3') s3 = await startS3();
    if (backends.online === 'redis') redis = await startRedis();
    if (backends.online === 'redis-cluster') cluster = await startRedisCluster();
    const repo = exampleRepo(backends, { s3, redis, cluster });
    dir = repo.dir;
    app = await startApp(repo.config);
    http = request(app.getHttpServer());
    await app.get(RegistryService).apply();
    await writeReplayedFlights(FLIGHTS_3M, join(dir, 'flights.parquet'), 10);
  });

  afterAll(async () => {
    await app?.close();
    await redis?.stop();
    await cluster?.stop();
    await s3?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('ingests Parquet and CSV request bodies as snapshots', async () => {
    const flights = await http
      .post('/datasets/flights/files')
      .set('Content-Type', 'application/vnd.apache.parquet')
      .send(readFileSync(join(dir, 'flights.parquet')))
      .expect(201);
    const [{ n }] = await query(`SELECT count(*)::INTEGER AS n FROM read_parquet('${join(dir, 'flights.parquet')}')`);
    expect(flights.body).toMatchObject({ dataset: 'flights', snapshot_id: 1, row_count: n });
    await http.post('/datasets/airports/files').set('Content-Type', 'text/csv').send(readFileSync(AIRPORTS_CSV)).expect(201);
    // The same bytes again add nothing: 200, the snapshot that holds them, and what was left out.
    const again = await http.post('/datasets/airports/files').set('Content-Type', 'text/csv').send(readFileSync(AIRPORTS_CSV)).expect(200);
    expect(again.body).toMatchObject({ snapshot_id: 1, row_count: 3376, skipped: [{ file: 'request body', snapshot_id: 1 }] });
    const bad = await http.post('/datasets/airports/files?allow_duplicate=maybe').set('Content-Type', 'text/csv').send(readFileSync(AIRPORTS_CSV)).expect(400);
    expect(bad.headers['x-error-code']).toBe('VALIDATION_FAILED');
    const list = await http.get('/datasets').expect(200);
    expect(list.body.datasets.map((d: { name: string; row_count: number }) => [d.name, d.row_count])).toEqual([
      ['airport_conditions', 0],
      ['airports', 3376],
      ['flights', n],
    ]);
    const details = await http.get('/datasets/flights').expect(200);
    expect(details.body.snapshots).toHaveLength(1);
    expect(details.body.schema.map((c: { name: string }) => c.name)).toEqual(['date', 'delay', 'distance', 'origin', 'destination']);
    // A second copy of the airports, undone by a rollback: a new snapshot equal to the first.
    await http.post('/datasets/airports/files?allow_duplicate=true').set('Content-Type', 'text/csv').send(readFileSync(AIRPORTS_CSV)).expect(201);
    const rolled = await http.post('/datasets/airports/rollback').send({ to_snapshot: 1 }).expect(201);
    expect(rolled.body).toMatchObject({ snapshot_id: 3, operation: 'rollback', rolled_back_to: 1, row_count: 3376, added: { files: 0, rows: 0 } });
    expect((await http.post('/datasets/airports/rollback').send({ to_snapshot: 9 }).expect(404)).headers['x-error-code']).toBe('SNAPSHOT_NOT_FOUND');
    expect((await http.post('/datasets/airports/rollback').send({ to_snapshot: 'one' }).expect(400)).body.message).toMatch(/^to_snapshot: must be a snapshot id/);
    // With an Idempotency-Key a retried upload is ingested once, even with allow_duplicate.
    const upload = () => http.post('/datasets/airports/files?allow_duplicate=true').set('Content-Type', 'text/csv').set('Idempotency-Key', 'airports-copy-1').send(readFileSync(AIRPORTS_CSV));
    const first = await upload().expect(201);
    const retried = await upload().expect(201);
    expect([first.body.snapshot_id, retried.body.snapshot_id, retried.headers['idempotent-replayed']]).toEqual([4, 4, 'true']);
    await http.post('/datasets/airports/rollback').send({ to_snapshot: 1 }).expect(201); // back to one copy for what follows
  });

  it('materializes every view (Feast /materialize body) into both stores', async () => {
    const now = new Date().toISOString();
    const response = await http.post('/materialize').send({ start_ts: '2000-01-01T00:00:00Z', end_ts: now }).expect(200);
    expect(response.body).toMatchObject({ kind: 'materialize', state: 'succeeded', feature_views: ['airport_conditions', 'airport_daily', 'airport_info', 'route_weekly'] });
    const byView = Object.fromEntries(response.body.views.map((v: { name: string }) => [v.name, v]));
    expect(byView.airport_conditions).toMatchObject({ state: 'skipped', note: 'the source dataset has no data yet' });
    expect(byView.airport_daily.rows_offline).toBeGreaterThan(1000);
    expect(byView.airport_daily.rows_online).toBeGreaterThan(100);
    expect(byView.airport_info.rows_online).toBe(3376);
    expect(byView.route_weekly.rows_online).toBeGreaterThan(1000);
  });

  it('serves online features in Feast format, equal to the point-in-time offline values at the same moment', async () => {
    const now = new Date().toISOString();
    const entities = { airport: AIRPORTS, origin: ROUTES.map((r) => r[0]), destination: ROUTES.map((r) => r[1]) };
    const online = await http.post('/get-online-features').send({ feature_service: 'delay_model', entities }).expect(200);
    expect(online.body.metadata.feature_names).toEqual([
      'airport', 'origin', 'destination', 'avg_delay', 'departures',
      'route_flights_7d', 'route_avg_delay_7d', 'route_late_share_7d', 'state', 'latitude', 'longitude',
    ]);
    const results = online.body.results as { values: unknown[]; statuses: string[]; event_timestamps: string[] }[];
    expect(results[0]).toEqual({ values: AIRPORTS, statuses: AIRPORTS.map(() => 'PRESENT'), event_timestamps: AIRPORTS.map(() => '1970-01-01T00:00:00Z') });
    expect(results[3].statuses).toEqual(['PRESENT', 'PRESENT', 'PRESENT', 'PRESENT', 'NOT_FOUND']);
    expect(results[3].event_timestamps[0]).toMatch(/^\d{4}-\d\d-\d\dT00:00:00Z$/);
    expect(results[8].values).toEqual(['IL', 'GA', 'TX', 'CA', null]);
    expect(typeof results[4].values[0]).toBe('number');

    const historical = await http
      .post('/get-historical-features')
      .send({ feature_service: 'delay_model', entities: { ...entities, event_timestamp: AIRPORTS.map(() => now) } })
      .expect(200);
    const offline = historical.body.results as { values: unknown[] }[];
    // Historical adds event_timestamp after the join keys; features follow in the same order.
    for (let feature = 3; feature < results.length; feature++) {
      expect({ feature: online.body.metadata.feature_names[feature], values: offline[feature + 1].values }).toEqual({
        feature: online.body.metadata.feature_names[feature],
        values: results[feature].values,
      });
    }
  });

  it('returns the same training rows as Parquet and CSV, in input order', async () => {
    const entities = {
      airport: ['ORD', 'ORD', 'ATL'],
      event_timestamp: ['2001-01-01T00:00:00Z', new Date().toISOString(), new Date().toISOString()],
    };
    const body = { features: ['airport_daily:departures', 'airport_info:state'], entities, full_feature_names: true };
    const json = await http.post('/get-historical-features').send(body).expect(200);
    const parquet = await http.post('/get-historical-features?format=parquet').send(body).buffer(true).parse(binary).expect(200);
    expect(parquet.headers['content-type']).toBe('application/vnd.apache.parquet');
    const file = join(dir, 'out.parquet');
    writeFileSync(file, parquet.body as Buffer);
    const rows = await query(`SELECT * FROM read_parquet('${file}')`);
    // DuckDB's JSON form prints BIGINT as text: compare as numbers.
    const departures = (v: unknown) => (v === null ? null : Number(v));
    expect(rows.map((r) => [r.airport, departures(r.airport_daily__departures), r.airport_info__state])).toEqual(
      [0, 1, 2].map((i) => [entities.airport[i], json.body.results[2].values[i], json.body.results[3].values[i]]),
    );
    expect(json.body.results[2].values[0]).toBeNull(); // 2001: before any (replayed) row
    const csv = await http.post('/get-historical-features?format=csv').send(body).expect(200);
    expect(csv.text.split('\n')[0]).toBe('airport,event_timestamp,airport_daily__departures,airport_info__state');
    expect(csv.text.trim().split('\n')).toHaveLength(4);
  });

  it('refuses an entity column named like a feature, naming both (it was renamed departures_1), and takes it with full feature names', async () => {
    const csv = 'airport,event_timestamp,departures\nORD,2001-01-05T00:00:00Z,7\n';
    const clash = await http.post('/get-historical-features/upload?features=airport_daily:departures&format=csv').set('Content-Type', 'text/csv').send(csv).expect(400);
    expect(clash.body).toMatchObject({ code: 'FEATURE_NAME_COLLISION', message: expect.stringMatching(/entity column "departures" and feature airport_daily:departures .*airport_daily__departures/) });
    const full = await http.post('/get-historical-features/upload?features=airport_daily:departures&format=csv&full_feature_names=true').set('Content-Type', 'text/csv').send(csv).expect(200);
    expect(full.text.split('\n')[0]).toBe('airport,event_timestamp,departures,airport_daily__departures');
  });

  it('carries extra columns of JSON entity rows (labels) through to the result, in every format', async () => {
    const body = { features: ['airport_daily:departures'], entities: { airport: ['ORD', 'ATL'], label: [1, 0], weight: [0.5, 2], event_timestamp: [new Date().toISOString(), new Date().toISOString()] } };
    const json = await http.post('/get-historical-features').send(body).expect(200);
    expect(json.body.metadata.feature_names).toEqual(['airport', 'label', 'weight', 'event_timestamp', 'departures']);
    expect(json.body.results[1].values).toEqual([1, 0]);
    expect(json.body.results[2].values).toEqual([0.5, 2]);
    const csv = await http.post('/get-historical-features?format=csv').send(body).expect(200);
    expect(csv.text.split('\n')[0]).toBe('airport,label,weight,event_timestamp,departures');
    expect(csv.text.split('\n')[1]).toMatch(/^ORD,1,0\.5,/);
  });

  it('describes itself: registry, health and OpenAPI', async () => {
    const registry = await http.get('/registry').expect(200);
    expect(registry.body).toMatchObject({ project: 'flights', version: 1 });
    expect(registry.body.feature_views.map((v: { name: string }) => v.name)).toEqual(['airport_conditions', 'airport_daily', 'airport_info', 'route_weekly']);
    expect(registry.body.push_sources).toEqual([{ name: 'airport_conditions_push', dataset: 'airport_conditions' }]);
    // The public probe says only ok; what backs it (and where the lake is) needs a key when keys are on.
    expect((await http.get('/health').expect(200)).body).toEqual({ status: 'ok' });
    const health = await http.get('/health/details').expect(200);
    expect(health.body).toMatchObject({
      status: 'ok',
      registry_version: 1,
      online_store: { type: backends.online === 'embedded' ? 'embedded' : 'redis', ok: true, latency_ms: expect.any(Number) },
      lake: { ok: true, location: backends.lake === 's3' ? expect.stringMatching(/^s3:\/\//) : expect.stringMatching(/^file:\/\//) },
    });
    const openapi = await http.get('/docs-json').expect(200);
    expect(Object.keys(openapi.body.paths)).toEqual(expect.arrayContaining(['/get-online-features', '/get-historical-features', '/materialize', '/datasets/{name}/files']));
    await http.get('/docs/').expect(200).expect('Content-Type', /html/);
  });
});

/** supertest parser that keeps a binary body as one Buffer. */
function binary(res: request.Response, done: (err: Error | null, body: Buffer) => void): void {
  const stream = res as unknown as NodeJS.ReadableStream;
  const chunks: Buffer[] = [];
  stream.on('data', (chunk: Buffer) => chunks.push(chunk));
  stream.on('end', () => done(null, Buffer.concat(chunks)));
}
