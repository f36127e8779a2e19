import { INestApplication } from '@nestjs/common';
import fc from 'fast-check';
import { readFileSync, rmSync } from 'node:fs';
import { AddressInfo, connect } from 'node:net';
import Redis from 'ioredis';
import { ObjectStore } from '../../src/storage/object-store';
import { RegistryService } from '../../src/registry/registry.service';
import { AIRPORTS_CSV, exampleRepo, FLIGHTS_3M, startApp } from '../support/app';
import { startRedis, TestRedis } from '../support/redis-server';
import { startS3, TestS3 } from '../support/s3-server';

interface Hostile {
  kind: string;
  method: 'GET' | 'POST';
  path: string;
  type?: string;
  body?: string | Buffer;
}

const SEED = 20261129;
const JSON_ROUTES = ['/get-online-features', '/get-historical-features', '/push', '/materialize', '/materialize-incremental', '/training-sets', '/skew-checks'];
const VALID: Record<string, unknown> = {
  '/get-online-features': { features: ['airport_daily:avg_delay'], entities: { airport: ['ORD'] } },
  '/get-historical-features': { features: ['airport_daily:avg_delay'], entities: { airport: ['ORD'], event_timestamp: ['2001-01-02T00:00:00Z'] } },
  '/push': { push_source_name: 'airport_conditions_push', df: { airport: ['ORD'], observed_at: ['2001-01-01T00:00:00Z'], visibility_miles: [1], wind_knots: [1], ground_stop: [false] }, to: 'online_and_offline' },
  '/materialize': { start_ts: '2001-01-01', end_ts: '2001-01-05', feature_views: ['airport_daily'] },
  '/materialize-incremental': { end_ts: '2001-01-05' },
  '/training-sets': { name: 'ts', features: ['airport_daily:avg_delay'], entities: { airport: ['ORD'], event_timestamp: ['2001-01-02T00:00:00Z'] } },
  '/skew-checks': { reference: { training_set: 'nope' }, current: { feature_view: 'airport_daily' } },
};
const HOSTILE_STRINGS = ['', ' ', '../../etc/passwd', '..%2F..%2Fetc', "x'; DROP TABLE flights; --", '"; SELECT 1; --', '\u0000', 'a'.repeat(10_000), '𝔘𝔫𝔦𝔠𝔬𝔡𝔢', '${jndi:ldap://x}', '<script>', 'NaN', '1e999'];
const HOSTILE_VALUES: unknown[] = [null, true, 0, -1, 1e308, -0, 2 ** 64, [], {}, [[[]]], { __proto__: { polluted: 1 } }, ...HOSTILE_STRINGS];

const jsonType = (v: unknown) => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);
/** Values in entity and push columns are data: a string where a string goes is valid, however odd. */
const DATA_PATH = /^body\.(entities|df)\.\w+\.\d+$/;

/**
 * Every field of a valid body, and every value inside it, replaced by something hostile: at data
 * positions a value of another JSON type; at every other position (names, options) anything.
 */
function mutations(route: string): Hostile[] {
  const out: Hostile[] = [];
  const visit = (value: unknown, replace: (v: unknown) => unknown, where: string) => {
    for (const hostile of HOSTILE_VALUES) {
      if (DATA_PATH.test(where) && (jsonType(hostile) === jsonType(value) || hostile === null)) continue;
      if (/^body\.\w+$/.test(where) && hostile === null) continue; // a top-level null means absent (documented)
      if (where === 'body.feature_views' && jsonType(hostile) === 'array' && JSON.stringify(hostile) === '[]') continue; // [] means every view, as in Feast
      out.push({ kind: `wrong type at ${where}`, method: 'POST', path: route, type: 'application/json', body: JSON.stringify(replace(hostile)) });
    }
    if (value && typeof value === 'object') {
      for (const key of Object.keys(value)) {
        const child = (value as Record<string, unknown>)[key];
        visit(child, (v) => replace(Array.isArray(value) ? Object.assign([...value], { [key]: v }) : { ...(value as object), [key]: v }), `${where}.${key}`);
      }
    }
  };
  visit(VALID[route], (v) => v, 'body');
  return out;
}

function malformedJson(route: string): Hostile[] {
  const valid = JSON.stringify(VALID[route]);
  const cuts = fc.sample(fc.integer({ min: 1, max: valid.length - 1 }), { seed: SEED, numRuns: 10 });
  const deep = (n: number) => '['.repeat(n) + ']'.repeat(n);
  const bodies: [string, string | Buffer][] = [
    ...cuts.map((at): [string, string] => ['truncated JSON', valid.slice(0, at)]),
    ['invalid UTF-8', Buffer.concat([Buffer.from('{"features": ["'), Buffer.from([0xff, 0xfe, 0xc3, 0x28]), Buffer.from('"]}')])],
    ['a NUL byte', `${valid.slice(0, 5)}\u0000${valid.slice(5)}`],
    ['deep nesting (10k)', `{"features": ${deep(10_000)}}`],
    ['deep nesting (100k)', `{"entities": {"airport": ${deep(100_000)}}}`],
    ['a JSON scalar', '42'],
    ['random bytes', Buffer.from(fc.sample(fc.integer({ min: 0, max: 255 }), { seed: SEED, numRuns: 512 }))],
  ];
  return [
    ...bodies.map(([kind, body]): Hostile => ({ kind, method: 'POST', path: route, type: 'application/json', body })),
    { kind: 'no content type', method: 'POST', path: route, body: valid },
    { kind: 'a form body', method: 'POST', path: route, type: 'application/x-www-form-urlencoded', body: 'features=x' },
  ];
}

function hugeArrays(): Hostile[] {
  const airports = Array.from({ length: 200_000 }, (_, i) => `A${i}`);
  return [
    { kind: 'huge entity array (online)', method: 'POST', path: '/get-online-features', type: 'application/json', body: JSON.stringify({ features: ['airport_daily:avg_delay'], entities: { airport: airports } }) },
    { kind: 'entity rows over the limit (online)', method: 'POST', path: '/get-online-features', type: 'application/json', body: JSON.stringify({ features: ['airport_daily:avg_delay'], entities: { airport: airports.slice(0, 20_000) } }) },
    { kind: 'huge feature list', method: 'POST', path: '/get-online-features', type: 'application/json', body: JSON.stringify({ features: airports.map((a) => `${a}:x`), entities: { airport: ['ORD'] } }) },
    { kind: 'body over the size limit', method: 'POST', path: '/get-online-features', type: 'application/json', body: Buffer.alloc(3 * 2 ** 20, ' ') },
  ];
}

/**
 * Bodies built to be expensive to parse rather than wrong: millions of tiny values, a huge object,
 * long strings of escapes. Each is refused while it is read, or parsed in slices and then refused
 * by validation; all within the fuzz server's 2 MiB body limit.
 */
function expensiveToParse(): Hostile[] {
  const json = (kind: string, path: string, body: string): Hostile => ({ kind, method: 'POST', path, type: 'application/json', body });
  const objects = `[${Array(650_000).fill('{}').join(',')}]`;
  const keys = `{${Array.from({ length: 120_000 }, (_, i) => `"k${i}":0`).join(',')}}`;
  const escapes = `{"features": ["${'\\u0041'.repeat(300_000)}"], "entities": {"airport": ["ORD"]}}`;
  const numbers = `{"features": ["airport_daily:avg_delay"], "entities": {"airport": [${Array(900_000).fill(1).join(',')}]}}`;
  const values = `{"entities": {"airport": [${Array(2_100_000).fill(0).join(',')}]}}`; // 4.2 MB: refused by the byte limit or the value limit, whichever comes first
  return [
    ...JSON_ROUTES.map((route) => json('650,000 empty objects', route, objects)),
    json('120,000 keys in one object', '/get-online-features', keys),
    json('a string of 300,000 escapes', '/get-online-features', escapes),
    json('900,000 numbers where keys are strings', '/get-online-features', numbers),
    json('2.1 million values', '/get-online-features', values),
    json('2.1 million values in a push', '/push', values.replace('entities', 'df')),
  ];
}

function names(): Hostile[] {
  const encoded = HOSTILE_STRINGS.filter((s) => s !== '').map((s) => encodeURIComponent(s.slice(0, 300)));
  return encoded.flatMap((name): Hostile[] => [
    { kind: 'hostile dataset name', method: 'GET', path: `/datasets/${name}` },
    { kind: 'hostile dataset upload name', method: 'POST', path: `/datasets/${name}/files`, type: 'text/csv', body: 'a\n1\n' },
    { kind: 'hostile training-set name', method: 'GET', path: `/training-sets/${name}` },
    { kind: 'hostile training-set download', method: 'GET', path: `/training-sets/${name}/data?format=${name}` },
    { kind: 'hostile job id', method: 'GET', path: `/jobs/${name}` },
    { kind: 'hostile skew-check id', method: 'GET', path: `/skew-checks/${name}/report` },
    { kind: 'hostile declared check', method: 'POST', path: `/skew-checks/declared/${name}`, type: 'application/json', body: '{}' },
    { kind: 'hostile feature view', method: 'POST', path: '/get-online-features', type: 'application/json', body: JSON.stringify({ features: [`${decodeURIComponent(name)}:avg_delay`], entities: { airport: ['ORD'] } }) },
    { kind: 'hostile feature name', method: 'POST', path: '/get-online-features', type: 'application/json', body: JSON.stringify({ features: [`airport_daily:${decodeURIComponent(name)}`], entities: { airport: ['ORD'] } }) },
    { kind: 'hostile join key', method: 'POST', path: '/get-online-features', type: 'application/json', body: JSON.stringify({ features: ['airport_daily:avg_delay'], entities: { [decodeURIComponent(name)]: ['ORD'] } }) },
    { kind: 'hostile push column', method: 'POST', path: '/push', type: 'application/json', body: JSON.stringify({ push_source_name: 'airport_conditions_push', df: { [decodeURIComponent(name)]: [1] } }) },
  ]);
}

function uploads(): Hostile[] {
  const parquet = readFileSync(FLIGHTS_3M);
  const csv = readFileSync(AIRPORTS_CSV, 'utf8').split('\n').slice(0, 50).join('\n');
  const cuts = fc.sample(fc.integer({ min: 1, max: parquet.length - 1 }), { seed: SEED, numRuns: 8 });
  const up = (kind: string, type: string, body: string | Buffer, dataset = 'flights'): Hostile => ({ kind, method: 'POST', path: `/datasets/${dataset}/files`, type, body });
  return [
    ...cuts.map((at) => up('truncated Parquet', 'application/vnd.apache.parquet', parquet.subarray(0, at))),
    up('Parquet head and tail only', 'application/vnd.apache.parquet', Buffer.concat([parquet.subarray(0, 4096), parquet.subarray(parquet.length - 4096)])),
    up('not Parquet', 'application/vnd.apache.parquet', Buffer.from('PAR1 this is text PAR1')),
    up('empty Parquet', 'application/vnd.apache.parquet', Buffer.alloc(0)),
    up('CSV with ragged rows', 'text/csv', 'date,delay,distance,origin,destination\n2001-01-01,1,2,ORD,LGA\n2001-01-02,3\n2001-01-03,1,2,ORD,LGA,extra,more\n'),
    up('CSV with wrong types', 'text/csv', 'date,delay,distance,origin,destination\nyesterday,late,far,1,2\n'),
    up('CSV that is binary', 'text/csv', parquet.subarray(0, 2048)),
    up('empty CSV', 'text/csv', ''),
    up('CSV of another dataset', 'text/csv', csv),
    up('JSON Lines with a broken line', 'application/x-ndjson', '{"date": "2001-01-01", "delay": 1, "distance": 2, "origin": "ORD", "destination": "LGA"}\n{"date": \n'),
    up('JSON Lines of scalars', 'application/x-ndjson', '1\n2\n'),
    up('an unknown content type', 'application/zip', Buffer.from('PK\u0003\u0004')),
    { kind: 'truncated Parquet spine', method: 'POST', path: '/get-historical-features/upload?features=airport_daily:avg_delay', type: 'application/vnd.apache.parquet', body: parquet.subarray(0, 10_000) },
    { kind: 'ragged CSV spine', method: 'POST', path: '/get-historical-features/upload?features=airport_daily:avg_delay', type: 'text/csv', body: 'airport,event_timestamp\nORD\nATL,2001-01-01,x\n' },
  ];
}

async function send(base: string, c: Hostile): Promise<{ status: number; code?: string }> {
  const headers: Record<string, string> = {};
  if (c.type) headers['content-type'] = c.type;
  const response = await fetch(`${base}${c.path}`, { method: c.method, headers, body: c.method === 'GET' ? undefined : (c.body ?? '') });
  const text = await response.text();
  // Every error answer names its code in X-Error-Code; a `{code, message}` body (all but Feast's routes) names the same one.
  const header = response.headers.get('x-error-code') ?? undefined;
  let body: string | undefined;
  try {
    const parsed = JSON.parse(text) as unknown;
    body = typeof parsed === 'object' && parsed !== null ? (parsed as { code?: string }).code : undefined;
  } catch {
    body = undefined;
  }
  return { status: response.status, code: body === undefined || body === header ? header : `${header} (body: ${body})` };
}

/**
 * Hundreds of hostile requests from a fixed seed against a server on S3 and Redis: every answer is
 * a 4xx with a stable code, never a 500; the server stays up; the lake and the online store end
 * exactly as they began.
 */
describe('hostile input (S3 lake, Redis online store)', () => {
  let s3: TestS3;
  let redis: TestRedis;
  let app: INestApplication;
  let dir: string;
  let base: string;

  beforeAll(async () => {
    [s3, redis] = await Promise.all([startS3(), startRedis()]);
    const repo = exampleRepo({ lake: 's3', online: 'redis' }, { s3, redis }, 'fuzz', { FEATURELAKE_API_KEYS: '' });
    dir = repo.dir;
    repo.config.limits.maxJsonBytes = 2 * 2 ** 20;
    app = await startApp(repo.config);
    await app.listen(0, '127.0.0.1');
    base = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
    await app.get(RegistryService).apply();
  });

  afterAll(async () => {
    await app?.close();
    await Promise.all([redis?.stop(), s3?.stop()]);
    rmSync(dir, { recursive: true, force: true });
  });

  const snapshotState = async () => {
    const client = new Redis(redis.url);
    try {
      // The job queue shares this Redis: its bookkeeping (event stream, id counter) moves with every call, so only data keys count.
      const keys = (await client.keys('*')).filter((k) => !k.startsWith('featurelake:fuzz:bull:')).sort();
      const values = keys.length ? await client.mget(...keys) : [];
      return { lake: await app.get(ObjectStore).list(''), online: keys.map((k, i) => [k, values[i]]) };
    } finally {
      client.disconnect();
    }
  };

  it('answers every hostile request with a 4xx and a stable code, and changes nothing', async () => {
    const before = await snapshotState();
    const cases = [...JSON_ROUTES.flatMap((r) => [...malformedJson(r), ...mutations(r)]), ...hugeArrays(), ...expensiveToParse(), ...names(), ...uploads()];
    expect(cases.length).toBeGreaterThan(500);
    const outcomes = new Map<string, number>();
    const failures: string[] = [];
    for (const c of cases) {
      const { status, code } = await send(base, c);
      outcomes.set(`${status} ${code}`, (outcomes.get(`${status} ${code}`) ?? 0) + 1);
      // 404/409/422 for a well-formed request naming something absent or conflicting are fine; 2xx means a hostile value was accepted.
      if (status < 400 || status >= 500 || !code || !/^[A-Z][A-Z_]+$/.test(code)) failures.push(`${c.kind} ${c.method} ${c.path.slice(0, 80)} → ${status} ${code}`);
    }
    const summary = [...outcomes].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${String(n).padStart(5)}  ${k}`);
    console.log(`hostile inputs: ${cases.length}\n${summary.join('\n')}`);
    expect(failures).toEqual([]);
    const health = await fetch(`${base}/health`);
    expect(health.status).toBe(200);
    expect(await snapshotState()).toEqual(before);
  });
});

/** Slow clients: a request body that stalls is answered 408 and its connection closed, for JSON and uploads alike. */
describe('stalled request bodies', () => {
  let app: INestApplication;
  let dir: string;
  let port: number;

  beforeAll(async () => {
    const repo = exampleRepo({ lake: 'local', online: 'embedded' }, {}, 'slow', { FEATURELAKE_IDLE_TIMEOUT_SECONDS: '0.5' });
    dir = repo.dir;
    app = await startApp(repo.config);
    await app.listen(0, '127.0.0.1');
    port = (app.getHttpServer().address() as AddressInfo).port;
    await app.get(RegistryService).apply();
  });

  afterAll(async () => {
    await app?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const stall = (path: string, type: string, start: string) =>
    new Promise<{ head: string; ms: number }>((resolve) => {
      const started = Date.now();
      let head = '';
      const socket = connect(port, '127.0.0.1', () => socket.write(`POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: ${type}\r\nContent-Length: 10000\r\n\r\n${start}`));
      socket.on('data', (d: Buffer) => (head += d.toString()));
      socket.on('close', () => resolve({ head, ms: Date.now() - started }));
    });

  it.each([
    ['/get-online-features', 'application/json', '{"features": ['],
    ['/datasets/flights/files', 'text/csv', 'date,delay,distance,origin,destination\n'],
  ])('%s: 408 REQUEST_TIMEOUT after half a second of silence', async (path, type, start) => {
    const { head, ms } = await stall(path, type, start);
    expect(head).toMatch(/^HTTP\/1\.1 408/);
    expect(head.toLowerCase()).toContain('x-error-code: request_timeout');
    expect(ms).toBeGreaterThanOrEqual(450);
    expect(ms).toBeLessThan(5000);
    expect((await fetch(`http://127.0.0.1:${port}/health`)).status).toBe(200);
  });
});
