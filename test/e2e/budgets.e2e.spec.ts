import { INestApplication } from '@nestjs/common';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import request from 'supertest';
import { AppConfig } from '../../src/config/app-config';
import { ObjectStore } from '../../src/storage/object-store';
import { RegistryService } from '../../src/registry/registry.service';
import { AIRPORTS_CSV, exampleRepo, FLIGHTS_3M, startApp } from '../support/app';
import { writeFile } from '../support/duckdb-files';
import { errorOf } from '../support/errors';
import { filesUnder, settledScratch } from '../support/scratch';
import { startS3, TestS3 } from '../support/s3-server';

const LIMITS = `limits:
  max_ingest_rows: 50000
  max_ingest_bytes: 20MiB
  max_entity_rows: 20000
  max_result_bytes: 256KiB
  max_json_elements: 5000
`;

/**
 * Every unit of work has a budget, checked while the work runs, and going over changes nothing:
 * the limits are set low here so that each bomb is built in a second and refused in less.
 */
describe.each(['local', 's3'] as const)('budgets (lake on %s)', (lake) => {
  let s3: TestS3 | undefined;
  let app: INestApplication;
  let config: AppConfig;
  let dir: string;
  let http: ReturnType<typeof request>;
  const lakeObjects = () => app.get(ObjectStore).list('');
  const scratch = () => settledScratch(join(config.stateDir, 'tmp'));

  beforeAll(async () => {
    if (lake === 's3') s3 = await startS3();
    ({ dir, config } = exampleRepo({ lake, online: 'embedded' }, { s3 }, 'budgets', {}, LIMITS));
    app = await startApp(config);
    http = request(app.getHttpServer());
    await app.get(RegistryService).apply();
    await writeFile(join(dir, 'sample.parquet'), `SELECT * FROM read_parquet('${FLIGHTS_3M}') ORDER BY date LIMIT 40000`);
    await http.post('/datasets/flights/files').set('Content-Type', 'application/vnd.apache.parquet').send(readFileSync(join(dir, 'sample.parquet'))).expect(201);
    await http.post('/datasets/airports/files').set('Content-Type', 'text/csv').send(readFileSync(AIRPORTS_CSV)).expect(201);
    await http.post('/materialize').send({ start_ts: '2001-01-01', end_ts: '2001-02-01', feature_views: ['airport_daily', 'airport_info', 'route_weekly'] }).expect(200);
  });

  afterAll(async () => {
    await app?.close();
    await s3?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses a decompression bomb from the size its metadata declares, before reading it, and keeps nothing', async () => {
    const bomb = join(dir, 'bomb.parquet');
    // 100,000 distinct 1,000-character strings of zeros: about 100 MB unpacked, a few hundred KB packed.
    await writeFile(bomb, `SELECT TIMESTAMP '2001-01-01' + to_seconds(range) AS date, lpad(range::VARCHAR, 1000, '0') AS payload FROM range(100000)`, 'COMPRESSION zstd');
    expect(statSync(bomb).size).toBeLessThan(2 ** 20);
    const before = await lakeObjects();
    const started = Date.now();
    const answer = await http.post('/datasets/flights/files').set('Content-Type', 'application/vnd.apache.parquet').send(readFileSync(bomb)).expect(413);
    expect(answer.body).toMatchObject({ code: 'SIZE_LIMIT_EXCEEDED', message: expect.stringMatching(/request body: 9\d\.\d MiB of data \(decompressed\) exceeds limits\.max_ingest_bytes \(20 MiB\)/), details: { limit: 'limits.max_ingest_bytes' } });
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(await lakeObjects()).toEqual(before);
    expect(await scratch()).toEqual([]);
  });

  it('stops reading a file one row past limits.max_ingest_rows, and commits nothing', async () => {
    const rows = Array.from({ length: 50_001 }, (_, i) => `2001-03-01T00:00:00Z,${i % 60},500,ORD,LGA`);
    const before = await lakeObjects();
    const answer = await http.post('/datasets/flights/files').set('Content-Type', 'text/csv').send(`date,delay,distance,origin,destination\n${rows.join('\n')}\n`).expect(413);
    expect(answer.body).toMatchObject({ code: 'ROW_LIMIT_EXCEEDED', message: expect.stringMatching(/more than 50,000 rows exceeds limits\.max_ingest_rows/), details: { limit: 'limits.max_ingest_rows', max: 50000 } });
    expect(await lakeObjects()).toEqual(before);
    expect((await http.get('/datasets/flights').expect(200)).body.snapshots).toHaveLength(1);
    expect(await scratch()).toEqual([]); // nor the Parquet it had begun to write
  });

  it('refuses a Parquet file whose footer declares more than limits.max_ingest_rows, before reading it', async () => {
    await writeFile(join(dir, 'many.parquet'), `SELECT * FROM read_parquet('${FLIGHTS_3M}') LIMIT 60000`);
    const answer = await http.post('/datasets/flights/files').set('Content-Type', 'application/vnd.apache.parquet').send(readFileSync(join(dir, 'many.parquet'))).expect(413);
    expect(answer.body).toMatchObject({ code: 'ROW_LIMIT_EXCEEDED', details: { limit: 'limits.max_ingest_rows' } });
    expect(await scratch()).toEqual([]);
  });

  it('refuses a spine bomb from any source — a lake dataset, a time window, an uploaded file — before the join runs', async () => {
    const features = ['airport_daily:avg_delay'];
    const bomb = await http.post('/get-historical-features').send({ features, entity_dataset: { name: 'flights', key_columns: { airport: 'origin' } } }).expect(413);
    expect(bomb.body).toMatchObject({ code: 'ROW_LIMIT_EXCEEDED', message: expect.stringMatching(/dataset flights: more than 20,000 entity rows exceeds limits\.max_entity_rows/), details: { limit: 'limits.max_entity_rows' } });
    const narrowed = await http
      .post('/get-historical-features?format=parquet')
      .send({ features, entity_dataset: { name: 'flights', key_columns: { airport: 'origin' }, filters: [{ column: 'origin', op: 'in', value: ['ORD', 'ATL'] }] } });
    expect(narrowed.status).toBe(200);
    const window = await http.post('/get-historical-features').send({ features: ['airport_daily:departures', 'airport_info:state'], time_range: { start: '2000-01-01T00:00:00Z', end: '2030-01-01T00:00:00Z' } });
    expect(window.status === 200 || window.body.code === 'ROW_LIMIT_EXCEEDED').toBe(true); // small here; the same check guards it
    const upload = `airport,event_timestamp\n${Array.from({ length: 20_001 }, () => 'ORD,2001-01-05T00:00:00Z').join('\n')}\n`;
    const uploaded = await http.post('/get-historical-features/upload?features=airport_daily:avg_delay').set('Content-Type', 'text/csv').send(upload).expect(413);
    expect(uploaded.body).toMatchObject({ code: 'ROW_LIMIT_EXCEEDED', message: expect.stringMatching(/uploaded entity rows: more than 20,000/) });
    expect(await scratch()).toEqual([]);
  });

  it('stops a result that grows past limits.max_result_bytes, and removes what it wrote', async () => {
    const spine = { name: 'flights', key_columns: { airport: 'origin', origin: 'origin', destination: 'destination' }, filters: [{ column: 'origin', op: 'in', value: ['ORD', 'ATL', 'DFW', 'LAX'] }] };
    const answer = await http.post('/get-historical-features?format=csv').send({ feature_service: 'delay_model', entity_dataset: spine }).expect(422);
    expect(answer.body).toMatchObject({ code: 'RESULT_LIMIT_EXCEEDED', message: expect.stringMatching(/exceeds limits\.max_result_bytes \(256 KiB\)/), details: { limit: 'limits.max_result_bytes' } });
    expect(await scratch()).toEqual([]);
  });

  it('refuses a JSON body past limits.max_json_elements while it is read', async () => {
    const body = JSON.stringify({ features: ['airport_daily:avg_delay'], entities: { airport: Array(6000).fill('ORD') } });
    const answer = await http.post('/get-online-features').set('Content-Type', 'application/json').send(body).expect(413);
    expect(errorOf(answer)).toMatchObject({ code: 'JSON_LIMIT_EXCEEDED', message: expect.stringContaining('limits.max_json_elements') });
  });
});

const SLOW_VIEW = `feature_views:
  - name: slow
    entities: [airport]
    source: flights
    description: deliberately slow to compute from the lake (every flight counted 100,000 times), so that work can be caught running
    sql: SELECT origin AS airport, date_trunc('day', date) AS event_timestamp, count(*) AS n FROM flights, range(100000) GROUP BY ALL
    features: [{ name: n, type: int64 }]
`;

/** Work that nobody waits for stops: a budget that runs out, a client that leaves, and no spill beyond the DuckDB limit. */
describe('work stops when its budget runs out or its client leaves', () => {
  let app: INestApplication;
  let config: AppConfig;
  let dir: string;
  let http: ReturnType<typeof request>;
  const scratchNow = () => filesUnder(join(config.stateDir, 'tmp'));
  const scratch = () => settledScratch(join(config.stateDir, 'tmp'));
  const metric = async (name: string) => Number(new RegExp(`^${name.replace(/[{}"]/g, (c) => `\\${c}`)} (\\d+)`, 'm').exec((await http.get('/metrics')).text)?.[1] ?? 0);

  beforeAll(async () => {
    ({ dir, config } = exampleRepo({ lake: 'local', online: 'embedded' }, {}, 'stopping', { FEATURELAKE_QUERY_TIMEOUT_SECONDS: '2' }));
    writeFileSync(join(config.repoDir, 'slow.yaml'), SLOW_VIEW);
    app = await startApp(config);
    await app.listen(0, '127.0.0.1');
    http = request(app.getHttpServer());
    await app.get(RegistryService).apply();
    await writeFile(join(dir, 'sample.parquet'), `SELECT * FROM read_parquet('${FLIGHTS_3M}') ORDER BY date LIMIT 40000`);
    await http.post('/datasets/flights/files').set('Content-Type', 'application/vnd.apache.parquet').send(readFileSync(join(dir, 'sample.parquet'))).expect(201);
    await http.post('/materialize').send({ start_ts: '2001-01-01', end_ts: '2001-02-01', feature_views: ['airport_daily'] }).expect(200);
  });

  afterAll(async () => {
    await app?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const slowSave = (name: string) => ({ name, features: ['slow:n'], entities: { airport: ['ORD'], event_timestamp: ['2001-01-10T00:00:00Z'] } });

  it('interrupts a query over limits.query_timeout_seconds, naming it, and keeps nothing', async () => {
    const started = Date.now();
    const answer = await http.post('/training-sets').send(slowSave('too_slow')).expect(422);
    expect(answer.body).toMatchObject({ code: 'TIME_LIMIT_EXCEEDED', message: expect.stringMatching(/limits\.query_timeout_seconds \(2 s\)/), details: { limit: 'limits.query_timeout_seconds' } });
    expect(Date.now() - started).toBeLessThan(15_000); // unstopped, the query runs for minutes
    await http.get('/training-sets/too_slow').expect(404);
    expect(await scratch()).toEqual([]);
    expect(await metric('featurelake_requests_stopped_total{reason="time_limit"}')).toBe(1);
  });

  it('stops the query of a client that disconnects, and removes its temp files', async () => {
    const address = app.getHttpServer().address() as { port: number };
    const controller = new AbortController();
    const sent = fetch(`http://127.0.0.1:${address.port}/training-sets`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(slowSave('abandoned')), signal: controller.signal }).catch(() => null);
    // Wait for the work, not for a clock: the saved entity rows land in the scratch folder before the slow join.
    for (let i = 0; i < 400 && scratchNow().length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(scratchNow().length).toBeGreaterThan(0);
    const left = Date.now();
    controller.abort();
    await sent;
    for (let i = 0; i < 1000 && (await metric('featurelake_requests_stopped_total{reason="client_gone"}')) === 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect(Date.now() - left).toBeLessThan(10_000);
    expect(await scratch()).toEqual([]);
    await http.get('/training-sets/abandoned').expect(404);
    // The engine is free again: an online read answers at once.
    await http.post('/get-online-features').send({ features: ['airport_daily:departures'], entities: { airport: ['ORD'] } }).expect(200);
  });

  it('refuses a query that needs more spill space than its DuckDB share, instead of filling the disk', async () => {
    // 2M offline rows, built with the normal limits; then the same state under a tight DuckDB budget.
    writeFileSync(join(config.repoDir, 'big.yaml'), BIG_VIEW);
    await app.get(RegistryService).apply();
    await http.post('/materialize').send({ start_ts: '2001-01-01', end_ts: '2001-03-01', feature_views: ['big'] }).expect(200);
    await app.close();
    const tight = AppConfig.of({ ...config, duckdb: { memoryLimitBytes: 24 * 2 ** 20, tempLimitBytes: 2 ** 20 } });
    app = await startApp(tight);
    await app.listen(0, '127.0.0.1');
    http = request(app.getHttpServer());
    const answer = await http.post('/get-historical-features?format=parquet').send({ features: ['big:k'], time_range: { start: '2001-01-01T00:00:00Z', end: '2001-03-01T00:00:00Z' } });
    expect([answer.status, answer.body.code]).toEqual([422, expect.stringMatching(/^(TEMP|MEMORY)_LIMIT_EXCEEDED$/)]);
    expect(answer.body.details).toMatchObject({ limit: expect.stringMatching(/^duckdb\.(temp|memory)_limit$/), instance: 'offline' });
    // Our files are gone; DuckDB may keep its spill pool files while the instance lives, never beyond its share.
    const left = await scratch();
    expect(left.filter((f) => !/\/duckdb-offline\//.test(f))).toEqual([]);
    expect(left.reduce((sum, f) => sum + statSync(f).size, 0)).toBeLessThanOrEqual(2 ** 20);
    // The server is unharmed: an online read answers.
    await http.post('/get-online-features').send({ features: ['airport_daily:departures'], entities: { airport: ['ORD'] } }).expect(200);
  });
});

const BIG_VIEW = `feature_views:
  - name: big
    entities: [airport]
    source: flights
    description: every flight fifty times over, a second apart (2 million rows from 40,000)
    sql: SELECT origin AS airport, date + to_seconds(r.range) AS event_timestamp, r.range AS k FROM flights, range(50) r
    features: [{ name: k, type: int64 }]
`;

/** A dead process's scratch folder (a kill -9 mid-ingest, an OOM kill mid-join) is removed when the next process starts; a live one's is not. */
describe('scratch space left by dead processes', () => {
  it('is swept at start-up, sparing folders of live processes', async () => {
    const { dir, config } = exampleRepo({ lake: 'local', online: 'embedded' }, {}, 'sweep');
    try {
      const tmp = join(config.stateDir, 'tmp');
      const dead = join(tmp, '999999-0badc0de');
      const live = join(tmp, `${process.ppid}-feedface`);
      mkdirSync(join(dead, 'duckdb-offline'), { recursive: true });
      mkdirSync(live, { recursive: true });
      writeFileSync(join(dead, 'upload.csv'), 'x');
      writeFileSync(join(dead, 'duckdb-offline', 'duckdb_temp_storage_DEFAULT-0.tmp'), 'x');
      writeFileSync(join(live, 'upload.csv'), 'x');
      const app = await startApp(config);
      try {
        expect(existsSync(dead)).toBe(false);
        expect(existsSync(join(live, 'upload.csv'))).toBe(true);
      } finally {
        await app.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
