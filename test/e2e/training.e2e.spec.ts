import { INestApplication } from '@nestjs/common';
import * as arrow from 'apache-arrow';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import request from 'supertest';
import { RegistryService } from '../../src/registry/registry.service';
import { AIRPORTS_CSV, exampleRepo, FLIGHTS_3M, startApp } from '../support/app';
import { query, writeFile, writeReplayedFlights } from '../support/duckdb-files';

function binary(res: request.Response, done: (err: Error | null, body: Buffer) => void): void {
  const stream = res as unknown as NodeJS.ReadableStream;
  const chunks: Buffer[] = [];
  stream.on('data', (chunk: Buffer) => chunks.push(chunk));
  stream.on('end', () => done(null, Buffer.concat(chunks)));
}

/** Training data over HTTP: entity sources, formats, and saved training sets that rebuild byte for byte. */
describe('training data', () => {
  let app: INestApplication;
  let dir: string;
  let http: ReturnType<typeof request>;
  let lastDay: string;

  beforeAll(async () => {
    const repo = exampleRepo({ lake: 'local', online: 'embedded' }, {}, 'training');
    dir = repo.dir;
    app = await startApp(repo.config);
    http = request(app.getHttpServer());
    await app.get(RegistryService).apply();
    await writeReplayedFlights(FLIGHTS_3M, join(dir, 'flights.parquet'), 6);
    await http.post('/datasets/flights/files').set('Content-Type', 'application/vnd.apache.parquet').send(readFileSync(join(dir, 'flights.parquet'))).expect(201);
    await http.post('/datasets/airports/files').set('Content-Type', 'text/csv').send(readFileSync(AIRPORTS_CSV)).expect(201);
    await http.post('/materialize-incremental').send({ end_ts: new Date().toISOString() }).expect(200);
    const [{ day }] = await query(`SELECT strftime(max(date)::DATE, '%Y-%m-%d') AS day FROM read_parquet('${join(dir, 'flights.parquet')}')`);
    lastDay = day as string;
  });

  afterAll(async () => {
    await app?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const features = ['airport_daily:departures', 'airport_daily:avg_delay', 'airport_info:state'];
  const fromDataset = () => ({
    features,
    entity_dataset: {
      name: 'flights',
      start: `${lastDay}T00:00:00Z`,
      filters: [{ column: 'origin', op: 'in', value: ['ORD', 'ATL'] }, { column: 'delay', op: '>', value: 60 }],
      key_columns: { airport: 'origin' },
    },
  });

  it('takes entity rows from a lake dataset, narrowed by time and filters given as data, labels kept', async () => {
    const { body } = await http.post('/get-historical-features?format=jsonl').send(fromDataset()).buffer(true).parse(binary).expect(200);
    const rows = (body as Buffer).toString('utf8').trim().split('\n').map((l) => JSON.parse(l));
    const [{ n }] = await query(`SELECT count(*)::INTEGER AS n FROM read_parquet('${join(dir, 'flights.parquet')}') WHERE date >= TIMESTAMP '${lastDay}' AND origin IN ('ORD', 'ATL') AND delay > 60`);
    expect(rows).toHaveLength(n as number);
    expect(Object.keys(rows[0])).toEqual(['date', 'delay', 'distance', 'origin', 'destination', 'event_timestamp', 'airport', 'departures', 'avg_delay', 'state']);
    expect(rows.every((r) => r.airport === r.origin && r.delay > 60 && ['IL', 'GA'].includes(r.state))).toBe(true);
  });

  it('gives the same rows in every format: JSON, JSON Lines, CSV, Parquet and Arrow', async () => {
    const ask = (format: string) => http.post(`/get-historical-features?format=${format}`).send(fromDataset()).buffer(true).parse(binary).expect(200);
    const json = JSON.parse((await ask('json')).body.toString('utf8'));
    const jsonl = (await ask('jsonl')).body.toString('utf8').trim().split('\n').map((l: string) => JSON.parse(l));
    const csvFile = join(dir, 'out.csv');
    writeFileSync(csvFile, (await ask('csv')).body);
    const parquetFile = join(dir, 'out.parquet');
    writeFileSync(parquetFile, (await ask('parquet')).body);
    const table = arrow.tableFromIPC((await ask('arrow')).body as Buffer);
    const departures = json.results[json.metadata.feature_names.indexOf('departures')].values.map(Number);
    expect(jsonl.map((r: { departures: number }) => r.departures)).toEqual(departures);
    expect((await query(`SELECT departures::INTEGER AS d FROM read_csv('${csvFile}')`)).map((r) => r.d)).toEqual(departures);
    expect((await query(`SELECT departures::INTEGER AS d FROM read_parquet('${parquetFile}')`)).map((r) => r.d)).toEqual(departures);
    expect(Array.from(table.getChild('departures')!.toArray() as BigInt64Array, Number)).toEqual(departures);
    expect(table.schema.fields.find((f) => f.name === 'event_timestamp')?.type.toString()).toBe('Timestamp<MICROSECOND, UTC>');
    const accepted = await http.post('/get-historical-features').set('Accept', 'application/vnd.apache.arrow.stream').send(fromDataset()).buffer(true).parse(binary).expect(200);
    expect(accepted.headers['content-type']).toBe('application/vnd.apache.arrow.stream');
  });

  it('takes entity rows from an uploaded file, and returns every feature row of a window without any', async () => {
    await writeFile(join(dir, 'spine.parquet'), `SELECT 'ORD' AS airport, TIMESTAMP '${lastDay}' + INTERVAL 12 HOUR AS event_timestamp, 1 AS label UNION ALL SELECT 'ZZZ', TIMESTAMP '${lastDay}', 0`);
    const uploaded = await http
      .post('/get-historical-features/upload?features=airport_info:state&format=jsonl')
      .set('Content-Type', 'application/vnd.apache.parquet')
      .send(readFileSync(join(dir, 'spine.parquet')))
      .buffer(true)
      .parse(binary)
      .expect(200);
    expect((uploaded.body as Buffer).toString('utf8').trim().split('\n').map((l) => JSON.parse(l))).toEqual([
      { airport: 'ORD', event_timestamp: `${lastDay}T12:00:00.000000Z`, label: 1, state: 'IL' },
      { airport: 'ZZZ', event_timestamp: `${lastDay}T00:00:00.000000Z`, label: 0, state: null },
    ]);
    const window = await http
      .post('/get-historical-features?format=jsonl')
      .send({ features: ['airport_daily:departures'], time_range: { start: `${lastDay}T00:00:00Z`, end: `${lastDay}T00:00:00Z` } })
      .buffer(true)
      .parse(binary)
      .expect(200);
    const rows = (window.body as Buffer).toString('utf8').trim().split('\n').map((l) => JSON.parse(l));
    const [{ n }] = await query(`SELECT count(DISTINCT origin)::INTEGER AS n FROM read_parquet('${join(dir, 'flights.parquet')}') WHERE date::DATE = DATE '${lastDay}' - 1`);
    expect(rows).toHaveLength(n as number);
    expect(rows.every((r) => r.departures > 0 && r.event_timestamp === `${lastDay}T00:00:00.000000Z`)).toBe(true);
  });

  it.each([
    [{ features, entities: { airport: ['ORD'], event_timestamp: ['2026-01-01'] }, time_range: { start: '2026-01-01', end: '2026-01-02' } }, /exactly one of entities, entity_dataset and time_range/],
    [{ features, entity_dataset: { name: 'flights', filters: [{ column: 'nope', op: '=', value: 1 }] } }, /entity_dataset\.filters\[0\]\.column: the dataset has no column "nope"/],
    [{ features, entity_dataset: { name: 'flights', filters: [{ column: 'delay', op: 'like', value: 1 }] } }, /entity_dataset\.filters\[0\]\.op: must be one of/],
    [{ features, entity_dataset: { name: 'flights', filters: [{ column: 'delay', op: '>', value: 'late' }] } }, /entity_dataset\.filters\[0\]\.value: expected an integer for a BIGINT column/],
    [{ features, entity_dataset: { name: 'flights', surprise: 1 } }, /entity_dataset\.surprise: unknown field/],
    [{ features, time_range: { start: '2026-01-02', end: '2026-01-01' } }, /time_range: start is after end/],
  ])('rejects a bad entity source (%#)', async (body, message) => {
    const response = await http.post('/get-historical-features').send(body).expect(400);
    expect(response.body.message).toMatch(message);
  });

  it('saves a training set with what it takes to rebuild it, and rebuilds it byte for byte after new data landed', async () => {
    const saved = await http.post('/training-sets').send({ name: 'late_flights', description: 'big delays at ORD and ATL', ...fromDataset() }).expect(201);
    expect(saved.body).toMatchObject({
      name: 'late_flights',
      registry_version: 1,
      sources: [
        { feature_view: 'airport_daily', dataset: 'flights', snapshot_id: 1 },
        { feature_view: 'airport_info', dataset: 'airports', snapshot_id: 1 },
      ],
      entity_source: { kind: 'entity_dataset', dataset: 'flights', snapshot_id: 1 },
      entity_rows: { count: expect.any(Number), sha256: expect.stringMatching(/^[0-9a-f]{64}$/) },
      data: { sha256: expect.stringMatching(/^[0-9a-f]{64}$/) },
    });
    expect(saved.body.row_count).toBe(saved.body.entity_rows.count);
    await http.post('/training-sets').send({ name: 'late_flights', ...fromDataset() }).expect(409);

    // New data lands for the same days and the offline tables move on…
    await writeFile(join(dir, 'more.parquet'), `SELECT TIMESTAMP '${lastDay}' + INTERVAL 1 HOUR AS date, 500::BIGINT AS delay, 100::BIGINT AS distance, 'ORD' AS origin, 'LGA' AS destination`);
    await http.post('/datasets/flights/files').set('Content-Type', 'application/vnd.apache.parquet').send(readFileSync(join(dir, 'more.parquet'))).expect(201);
    await http.post('/materialize-incremental').send({ end_ts: new Date().toISOString() }).expect(200);
    const now = await http.post('/get-historical-features?format=jsonl').send(fromDataset()).buffer(true).parse(binary).expect(200);
    expect((now.body as Buffer).toString('utf8').trim().split('\n')).toHaveLength(saved.body.row_count + 1);

    // …but the saved training set rebuilds exactly.
    const verified = await http.post('/training-sets/late_flights/verify').expect(200);
    expect(verified.body).toMatchObject({ identical: true, rows: saved.body.row_count, rebuilt_sha256: saved.body.data.sha256 });
    const download = await http.get('/training-sets/late_flights/data').buffer(true).parse(binary).expect(200);
    expect(download.headers['content-type']).toBe('application/vnd.apache.parquet');
    const jsonl = await http.get('/training-sets/late_flights/data?format=jsonl').buffer(true).parse(binary).expect(200);
    expect((jsonl.body as Buffer).toString('utf8').trim().split('\n')).toHaveLength(saved.body.row_count);
    const list = await http.get('/training-sets').expect(200);
    expect(list.body.training_sets.map((t: { name: string }) => t.name)).toEqual(['late_flights']);
    await http.get('/training-sets/nope').expect(404);
    await http.post('/training-sets').send({ name: 'bad-name', ...fromDataset() }).expect(400);
  });
});
