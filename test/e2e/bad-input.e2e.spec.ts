import { INestApplication } from '@nestjs/common';
import { rmSync } from 'node:fs';
import request from 'supertest';
import { ObjectStore } from '../../src/storage/object-store';
import { OnlineStore } from '../../src/online-store/online-store';
import { RegistryService } from '../../src/registry/registry.service';
import { Backends, exampleRepo, startApp } from '../support/app';
import { errorOf } from '../support/errors';
import { startRedis, TestRedis } from '../support/redis-server';
import { startS3, TestS3 } from '../support/s3-server';

interface Case {
  name: string;
  method: 'get' | 'post';
  path: string;
  body?: unknown;
  raw?: { type: string; data: string | Buffer };
  status: number;
  code: string;
  message?: RegExp;
}

const online = (body: Record<string, unknown>) => ({ method: 'post' as const, path: '/get-online-features', body });
const historical = (body: Record<string, unknown>) => ({ method: 'post' as const, path: '/get-historical-features', body });
const ONE = { airport: ['ORD'] };

const CASES: Case[] = [
  { name: 'malformed JSON', method: 'post', path: '/get-online-features', raw: { type: 'application/json', data: '{"features": [' }, status: 400, code: 'MALFORMED_JSON' },
  { name: 'a body that is not JSON', method: 'post', path: '/get-online-features', raw: { type: 'text/plain', data: 'features=x' }, status: 415, code: 'UNSUPPORTED_MEDIA_TYPE', message: /application\/json/ },
  { name: 'a body that is not an object', method: 'post', path: '/materialize', raw: { type: 'application/json', data: '"text"' }, status: 400, code: 'VALIDATION_FAILED' },
  { ...online({ features: ['nope:avg_delay'], entities: ONE }), name: 'an unknown feature view', status: 404, code: 'FEATURE_VIEW_NOT_FOUND', message: /nope/ },
  { ...online({ features: ['airport_daily:nope'], entities: ONE }), name: 'an unknown feature', status: 404, code: 'FEATURE_NOT_FOUND', message: /airport_daily has no feature "nope"/ },
  { ...online({ feature_service: 'nope', entities: ONE }), name: 'an unknown feature service', status: 404, code: 'FEATURE_SERVICE_NOT_FOUND' },
  { ...online({ features: ['avg_delay'], entities: ONE }), name: 'a malformed feature reference', status: 400, code: 'INVALID_FEATURE_REF' },
  { ...online({ features: ['airport_daily:avg_delay'], entities: { airport: [42] } }), name: 'a wrong join-key type', status: 400, code: 'ENTITY_KEY_TYPE_MISMATCH', message: /entities\.airport\[0\]/ },
  { ...online({ features: ['airport_daily:avg_delay'], entities: { origin: ['ORD'] } }), name: 'a missing join key', status: 400, code: 'INVALID_ENTITY_KEYS', message: /entities\.airport: missing/ },
  { ...online({ features: ['airport_daily:avg_delay'], entities: { airport: ['A', 'B'], origin: ['X'] } }), name: 'an unknown entity column', status: 400, code: 'INVALID_ENTITY_KEYS' },
  { ...online({ features: ['airport_daily:avg_delay'] }), name: 'no entities', status: 400, code: 'VALIDATION_FAILED', message: /entities/ },
  { ...online({ features: ['airport_daily:avg_delay'], entities: { airport: 'ORD' } }), name: 'entities that are not columns', status: 400, code: 'VALIDATION_FAILED', message: /entities/ },
  { ...online({ features: 'airport_daily:avg_delay', entities: ONE }), name: 'features that are not a list', status: 400, code: 'VALIDATION_FAILED', message: /features/ },
  { ...online({ features: [], entities: ONE }), name: 'no features and no feature service', status: 400, code: 'VALIDATION_FAILED', message: /features: give a non-empty list of features, or a feature_service/ },
  // Feast's routes ignore fields they do not know, and let a feature_service win over features, as Feast does (feast-compat.e2e.spec.ts); the rest of the API is strict.
  { ...historical({ features: ['airport_daily:avg_delay'], feature_service: 'delay_model', entities: { airport: ['ORD'], event_timestamp: ['2001-01-01'] } }), name: 'both features and a feature service', status: 400, code: 'VALIDATION_FAILED' },
  { ...historical({ features: ['airport_daily:avg_delay'], entities: { airport: ['ORD'], event_timestamp: ['2001-01-01'] }, surprise: 1 }), name: 'an unknown field', status: 400, code: 'VALIDATION_FAILED', message: /surprise: unknown field/ },
  { ...online({ features: ['airport_daily:avg_delay', 'airport_daily:avg_delay'], entities: ONE }), name: 'a feature name collision', status: 400, code: 'FEATURE_NAME_COLLISION' },
  { ...historical({ features: ['airport_daily:avg_delay'], entities: { airport: ['ORD'], event_timestamp: ['yesterday'] } }), name: 'a bad timestamp', status: 400, code: 'INVALID_TIMESTAMP', message: /event_timestamp\[0\]/ },
  { ...historical({ features: ['airport_daily:avg_delay'], entities: { airport: ['ORD'] } }), name: 'historical rows without timestamps', status: 400, code: 'INVALID_ENTITY_KEYS', message: /event_timestamp/ },
  { method: 'post', path: '/get-historical-features?format=xml', body: { features: ['airport_daily:avg_delay'], entities: { airport: ['ORD'], event_timestamp: ['2001-01-01'] } }, name: 'an unknown output format', status: 400, code: 'VALIDATION_FAILED', message: /format/ },
  { method: 'post', path: '/materialize', body: { start_ts: 'soon', end_ts: '2001-01-01' }, name: 'a bad materialization timestamp', status: 400, code: 'INVALID_TIMESTAMP', message: /start_ts/ },
  { method: 'post', path: '/materialize', body: { start_ts: '2001-02-01', end_ts: '2001-01-01' }, name: 'a window that ends before it starts', status: 400, code: 'INVALID_WINDOW' },
  { method: 'post', path: '/materialize', body: { start_ts: '2001-01-01', end_ts: '2001-02-01', feature_views: ['nope'] }, name: 'materializing an unknown view', status: 404, code: 'FEATURE_VIEW_NOT_FOUND' },
  { method: 'post', path: '/materialize-incremental', body: {}, name: 'materialize-incremental without end_ts', status: 400, code: 'VALIDATION_FAILED', message: /end_ts/ },
  { method: 'post', path: '/datasets/flights/files', raw: { type: 'image/png', data: 'x' }, name: 'an unsupported upload type', status: 415, code: 'UNSUPPORTED_MEDIA_TYPE' },
  { method: 'post', path: '/datasets/flights/files', raw: { type: 'application/vnd.apache.parquet', data: 'PAR1 not really' }, name: 'an upload that is not Parquet', status: 422, code: 'INVALID_FILE' },
  { method: 'post', path: '/datasets/flights/files', raw: { type: 'text/csv', data: 'when,delay\n2001-01-01,1\n' }, name: 'a CSV without the timestamp column', status: 422, code: 'SCHEMA_MISMATCH' },
  { method: 'post', path: '/datasets/nope/files', raw: { type: 'text/csv', data: 'a\n1\n' }, name: 'an upload to an undeclared dataset', status: 404, code: 'DATASET_NOT_FOUND' },
  { method: 'get', path: '/datasets/..%2F..%2Fetc', name: 'a dataset name that climbs out of the lake', status: 404, code: 'DATASET_NOT_FOUND' },
  { method: 'get', path: '/nope', name: 'an unknown route', status: 404, code: 'NOT_FOUND' },
];

/** Every endpoint answers bad input with a 4xx, its code in X-Error-Code (and `{code, message}` off Feast's routes), changes nothing, and stays up. */
describe.each<Backends>([
  { lake: 'local', online: 'embedded' },
  { lake: 's3', online: 'redis' },
])('bad input over HTTP: lake on $lake, online store $online', (backends) => {
  let s3: TestS3 | undefined;
  let redis: TestRedis | undefined;
  let app: INestApplication;
  let dir: string;
  let http: ReturnType<typeof request>;

  beforeAll(async () => {
    if (backends.lake === 's3') s3 = await startS3();
    if (backends.online === 'redis') redis = await startRedis();
    const repo = exampleRepo(backends, { s3, redis }, `bad_${backends.lake}`);
    dir = repo.dir;
    app = await startApp(repo.config);
    http = request(app.getHttpServer());
    await app.get(RegistryService).apply();
  });

  afterAll(async () => {
    await app?.close();
    await redis?.stop();
    await s3?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it.each(CASES)('$name → $status $code', async (c) => {
    const lakeBefore = await app.get(ObjectStore).list('');
    let call = c.method === 'get' ? http.get(c.path) : http.post(c.path);
    if (c.raw) call = call.set('Content-Type', c.raw.type).send(c.raw.data);
    else if (c.body !== undefined) call = call.send(c.body as object);
    const error = errorOf(await call);
    expect({ status: error.status, code: error.code }).toEqual({ status: c.status, code: c.code });
    expect(typeof error.message).toBe('string');
    if (c.message) expect(error.message).toMatch(c.message);
    expect(await app.get(ObjectStore).list('')).toEqual(lakeBefore);
    await http.get('/health').expect(200);
  });

  it('left the online store empty', async () => {
    const catalog = await app.get(RegistryService).catalog();
    const [[record]] = await app.get(OnlineStore).read(catalog.project, [{ view: catalog.view('airport_daily'), entityKeys: ['"ORD"'] }]);
    expect(record).toBeNull();
  });
});
