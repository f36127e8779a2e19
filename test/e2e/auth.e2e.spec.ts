import { INestApplication } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import request from 'supertest';
import { sha256Hex } from '../../src/auth/api-key.authenticator';
import { Role } from '../../src/core/access';
import { RegistryService } from '../../src/registry/registry.service';
import { exampleRepo, startApp } from '../support/app';
import { errorOf } from '../support/errors';
import { startRedis, TestRedis } from '../support/redis-server';
import { startS3, TestS3 } from '../support/s3-server';

/**
 * The least role each route needs, written here independently of the controllers' decorators:
 * a route added without a row fails the first test, a decorator that drifts fails the walk.
 */
const EXPECTED: Record<string, Role | 'public'> = {
  'GET /health': 'public',
  'GET /health/details': 'reader',
  'GET /metrics': 'reader',
  'POST /get-online-features': 'reader',
  'POST /get-historical-features': 'reader',
  'POST /get-historical-features/upload': 'reader',
  'GET /datasets': 'reader',
  'GET /datasets/{name}': 'reader',
  'POST /datasets/{name}/files': 'writer',
  'POST /datasets/{name}/rollback': 'writer',
  'POST /datasets/{name}/compact': 'writer',
  'POST /push': 'writer',
  'POST /write-to-online-store': 'writer',
  'POST /materialize': 'writer',
  'POST /materialize-incremental': 'writer',
  'GET /jobs': 'writer',
  'GET /jobs/{id}': 'writer',
  'POST /jobs/{id}/cancel': 'admin',
  'GET /registry': 'admin',
  'POST /training-sets': 'writer',
  'GET /training-sets': 'reader',
  'GET /training-sets/{name}': 'reader',
  'GET /training-sets/{name}/data': 'reader',
  'POST /training-sets/{name}/verify': 'reader',
  'DELETE /training-sets/{name}': 'writer',
  'POST /skew-checks': 'reader',
  'POST /skew-checks/declared/{name}': 'reader',
  'GET /skew-checks': 'reader',
  'GET /skew-checks/{id}': 'reader',
  'GET /skew-checks/{id}/report': 'reader',
};

const ROLE_ORDER: Role[] = ['reader', 'writer', 'admin'];
const KEYS = Object.fromEntries(ROLE_ORDER.map((role) => [role, `fl_${role}_${randomBytes(24).toString('hex')}`])) as Record<Role, string>;

describe('API keys and roles (S3 lake, Redis online store)', () => {
  let s3: TestS3;
  let redis: TestRedis;
  let app: INestApplication;
  let dir: string;
  let http: ReturnType<typeof request>;
  let routes: string[];

  beforeAll(async () => {
    [s3, redis] = await Promise.all([startS3(), startRedis()]);
    const env = { FEATURELAKE_API_KEYS: ROLE_ORDER.map((role) => `${role}-key:${role}:${sha256Hex(KEYS[role])}`).join(',') };
    const repo = exampleRepo({ lake: 's3', online: 'redis' }, { s3, redis }, 'auth', env);
    dir = repo.dir;
    app = await startApp(repo.config);
    http = request(app.getHttpServer());
    await app.get(RegistryService).apply();
    const { body } = await http.get('/docs-json').set('authorization', `Bearer ${KEYS.reader}`).expect(200);
    routes = Object.entries(body.paths as Record<string, Record<string, unknown>>).flatMap(([path, methods]) => Object.keys(methods).map((m) => `${m.toUpperCase()} ${path}`));
  });

  afterAll(async () => {
    await app?.close();
    await Promise.all([redis?.stop(), s3?.stop()]);
    rmSync(dir, { recursive: true, force: true });
  });

  const call = (route: string) => {
    const [method, path] = route.split(' ');
    const url = path.replace(/\{[a-z]+\}/g, 'no_such_thing');
    const req = method === 'GET' ? http.get(url) : method === 'DELETE' ? http.delete(url) : http.post(url);
    return url.endsWith('/files') || url.endsWith('/upload') ? req.set('content-type', 'text/csv').send('a,b\n') : req.set('content-type', 'application/json').send('{}');
  };

  it('knows the access rule of every route the API documents', () => {
    expect(routes.length).toBeGreaterThanOrEqual(Object.keys(EXPECTED).length);
    expect(routes.filter((r) => !(r in EXPECTED))).toEqual([]);
    expect(Object.keys(EXPECTED).filter((r) => !routes.includes(r))).toEqual([]);
  });

  it('turns away every route but /health without a key or with a wrong one (401), and lets each role in exactly where it belongs (403 otherwise)', async () => {
    const seen: string[] = [];
    for (const route of routes) {
      const needs = EXPECTED[route];
      const anonymous = await call(route);
      const wrong = await call(route).set('authorization', `Bearer ${KEYS.admin}x`);
      if (needs === 'public') {
        expect([route, anonymous.status]).toEqual([route, 200]);
        continue;
      }
      for (const response of [anonymous, wrong]) {
        expect([route, response.status, errorOf(response).code]).toEqual([route, 401, 'UNAUTHENTICATED']);
        expect(response.headers['www-authenticate']).toContain('Bearer');
      }
      for (const role of ROLE_ORDER) {
        const response = await call(route).set('authorization', `Bearer ${KEYS[role]}`);
        const allowed = ROLE_ORDER.indexOf(role) >= ROLE_ORDER.indexOf(needs);
        if (allowed) expect([route, role, [401, 403].includes(response.status)]).toEqual([route, role, false]);
        else expect([route, role, response.status, errorOf(response).code]).toEqual([route, role, 403, 'FORBIDDEN']);
        expect(response.status).toBeLessThan(500);
        seen.push(`${route} ${role} ${response.status}`);
      }
    }
    expect(seen).toHaveLength((routes.length - 1) * 3);
  });

  it('serves a reader with X-API-Key too, and names the role a route needs when it refuses', async () => {
    await http.post('/get-online-features').set('x-api-key', KEYS.reader).send({ feature_service: 'delay_model', entities: { airport: ['ORD'], origin: ['ORD'], destination: ['LGA'] } }).expect(200);
    const refused = await http.post('/push').set('x-api-key', KEYS.reader).send({}).expect(403);
    // Feast's route: Feast's client raises FeastPermissionError with the message.
    expect(errorOf(refused)).toMatchObject({ code: 'FORBIDDEN', feastClass: 'FeastPermissionError', message: 'key "reader-key" has role reader; POST /push needs writer' });
  });

  it('covers the OpenAPI pages and unknown paths as well', async () => {
    await http.get('/docs').expect(401);
    await http.get('/nowhere').expect(401);
    await http.get('/nowhere').set('authorization', `Bearer ${KEYS.admin}`).expect(404);
    await http.get('/docs').set('authorization', `Bearer ${KEYS.reader}`).expect((r) => expect(r.status).toBeLessThan(400));
  });

  it('refuses a large body before reading it', async () => {
    const { status } = await http.post('/get-online-features').set('content-type', 'application/json').send(`{"features":[${'"x:y",'.repeat(200_000)}"x:y"]}`);
    expect(status).toBe(401);
  });

  it('counts the failures on /metrics, never showing a key', async () => {
    const { text } = await http.get('/metrics').set('authorization', `Bearer ${KEYS.reader}`).expect(200);
    expect(text).toMatch(/featurelake_auth_failures_total\{reason="missing"\} \d+/);
    expect(text).toMatch(/featurelake_auth_failures_total\{reason="invalid"\} \d+/);
    for (const key of Object.values(KEYS)) expect(text).not.toContain(key);
  });
});
