import { INestApplication } from '@nestjs/common';
import { rmSync } from 'node:fs';
import request from 'supertest';
import { ObjectStore } from '../../src/storage/object-store';
import { RegistryService } from '../../src/registry/registry.service';
import { exampleRepo, startApp } from '../support/app';
import { errorOf } from '../support/errors';
import { startRedis, TestRedis } from '../support/redis-server';

const AIRPORTS = Array.from({ length: 150 }, (_, i) => `A${String(i).padStart(3, '0')}`);
const minutesAgo = (m: number) => new Date(Date.now() - m * 60_000).toISOString();

function conditions(airports: string[], at: string, visibility: number) {
  return {
    airport: airports,
    observed_at: airports.map(() => at),
    visibility_miles: airports.map(() => visibility),
    wind_knots: airports.map(() => 10),
    ground_stop: airports.map(() => false),
  };
}

/** Feast's /push on Redis: online at once, into the lake, validated first, and never older over newer. */
describe('push', () => {
  let redis: TestRedis;
  let app: INestApplication;
  let dir: string;
  let http: ReturnType<typeof request>;

  beforeAll(async () => {
    redis = await startRedis();
    const repo = exampleRepo({ lake: 'local', online: 'redis' }, { redis }, 'pushes');
    dir = repo.dir;
    app = await startApp(repo.config);
    http = request(app.getHttpServer());
    await app.get(RegistryService).apply();
  });

  afterAll(async () => {
    await app?.close();
    await redis?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const visibility = async (airports: string[]) => {
    const { body } = await http.post('/get-online-features').send({ features: ['airport_conditions:visibility_miles'], entities: { airport: airports } }).expect(200);
    return { values: body.results[1].values, statuses: body.results[1].statuses };
  };

  it('serves pushed rows at once, without touching the lake (to: online)', async () => {
    const lake = await app.get(ObjectStore).list('datasets/');
    const { body } = await http.post('/push').send({ push_source_name: 'airport_conditions_push', df: conditions(['ORD', 'ATL'], minutesAgo(5), 9.5) }).expect(200);
    expect(body).toEqual({ push_source_name: 'airport_conditions_push', rows: 2, online: { feature_views: ['airport_conditions'], rows: 2 }, offline: null });
    expect(await visibility(['ORD', 'ATL', 'SFO'])).toEqual({ values: [9.5, 9.5, null], statuses: ['PRESENT', 'PRESENT', 'NOT_FOUND'] });
    expect(await app.get(ObjectStore).list('datasets/')).toEqual(lake);
  });

  it('lands offline pushes in the lake as a snapshot, and both with online_and_offline', async () => {
    const offline = await http.post('/push').send({ push_source_name: 'airport_conditions_push', df: conditions(['DEN'], minutesAgo(5), 3), to: 'offline' }).expect(200);
    expect(offline.body).toMatchObject({ online: null, offline: { dataset: 'airport_conditions', snapshot_id: 1 } });
    expect((await visibility(['DEN'])).values).toEqual([null]);
    const both = await http.post('/push').send({ push_source_name: 'airport_conditions_push', df: conditions(['DEN'], minutesAgo(4), 4), to: 'online_and_offline' }).expect(200);
    expect(both.body).toMatchObject({ online: { rows: 1 }, offline: { snapshot_id: 2 } });
    expect((await visibility(['DEN'])).values).toEqual([4]);
    const dataset = await http.get('/datasets/airport_conditions').expect(200);
    expect(dataset.body).toMatchObject({ row_count: 2, snapshots: [{ snapshot_id: 1 }, { snapshot_id: 2 }] });
  });

  it.each([
    [{ push_source_name: 'nope', df: conditions(['ORD'], minutesAgo(1), 1) }, 422, 'PUSH_SOURCE_NOT_FOUND', /nope/], // Feast's status for PushSourceNotFoundException
    [{ push_source_name: 'airport_conditions_push', df: { ...conditions(['ORD'], minutesAgo(1), 1), wind_knots: undefined } }, 400, 'INVALID_PUSH', /df\.wind_knots: missing/],
    [{ push_source_name: 'airport_conditions_push', df: { ...conditions(['ORD'], minutesAgo(1), 1), ground_stop: ['no'] } }, 400, 'INVALID_PUSH', /df\.ground_stop\[0\]: expected true or false/],
    [{ push_source_name: 'airport_conditions_push', df: { ...conditions(['ORD'], 'soon', 1) } }, 400, 'INVALID_PUSH', /df\.observed_at\[0\]/],
    [{ push_source_name: 'airport_conditions_push', df: { airport: ['ORD', 'ATL'], observed_at: [minutesAgo(1)] } }, 400, 'INVALID_PUSH', /df\.observed_at: has 1 values but airport has 2/],
    [{ push_source_name: 'airport_conditions_push', df: conditions(['ORD'], minutesAgo(1), 1), to: 'elsewhere' }, 400, 'VALIDATION_FAILED', /to: must be one of online, offline, online_and_offline/],
    [{ push_source_name: 'airport_conditions_push', df: { ...conditions(['ORD'], minutesAgo(1), 1), extra: [1] }, to: 'online_and_offline' }, 422, 'SCHEMA_MISMATCH', /unexpected extra/],
    // The dataset's expectations (feature-repo/flights.yaml), to any destination:
    [{ push_source_name: 'airport_conditions_push', df: conditions(['ORD', 'ATL'], minutesAgo(1), -2) }, 422, 'EXPECTATION_FAILED', /visibility_miles\.min \(visibility_miles >= 0\): 2 rows, e\.g\. \{"airport":"ORD"/],
    [{ push_source_name: 'airport_conditions_push', df: conditions(['ord'], minutesAgo(1), 1), to: 'online_and_offline' }, 422, 'EXPECTATION_FAILED', /airport\.regex/],
    [{ push_source_name: 'airport_conditions_push', df: conditions(['ORD'], minutesAgo(1), 101), to: 'offline' }, 422, 'EXPECTATION_FAILED', /visibility_miles\.max/],
  ])('rejects a bad push (%#) and writes nothing anywhere', async (body, status, code, message) => {
    const lake = await app.get(ObjectStore).list('');
    const before = await visibility(['ORD']);
    const response = await http.post('/push').send(body).expect(status);
    expect(errorOf(response)).toMatchObject({ code, message: expect.stringMatching(message) });
    expect(await app.get(ObjectStore).list('')).toEqual(lake);
    expect(await visibility(['ORD'])).toEqual(before);
  });

  it("applies the dataset's expectations to /write-to-online-store too (Feast's column names), writing nothing", async () => {
    const before = await visibility(['ORD']);
    const df = { airport: ['ORD'], event_timestamp: [minutesAgo(1)], visibility_miles: [500], wind_knots: [3], ground_stop: [false] };
    const response = await http.post('/write-to-online-store').send({ feature_view_name: 'airport_conditions', df }).expect(422);
    expect(response.headers['x-error-code']).toBe('EXPECTATION_FAILED');
    expect(errorOf(response).message).toMatch(/visibility_miles\.max \(visibility_miles <= 100\): 1 row/);
    expect(await visibility(['ORD'])).toEqual(before);
    await http.post('/write-to-online-store').send({ feature_view_name: 'airport_conditions', df: { ...df, visibility_miles: [50] } }).expect(200);
    expect((await visibility(['ORD'])).values).toEqual([50]);
  });

  it('never lets an older value replace a newer one when pushes race a materialization', async () => {
    // In the lake: readings from 30 minutes ago. Materializing writes them online…
    await http.post('/push').send({ push_source_name: 'airport_conditions_push', df: conditions(AIRPORTS, minutesAgo(30), 1), to: 'offline' }).expect(200);
    const newer = minutesAgo(10);
    const older = minutesAgo(50);
    for (let round = 0; round < 4; round++) {
      // …while pushes of newer (and of older) readings for the same airports run at the same time.
      await Promise.all([
        http.post('/materialize').send({ start_ts: minutesAgo(120), end_ts: new Date().toISOString(), feature_views: ['airport_conditions'] }).expect(200),
        http.post('/push').send({ push_source_name: 'airport_conditions_push', df: conditions(AIRPORTS, newer, 2) }).expect(200),
        http.post('/push').send({ push_source_name: 'airport_conditions_push', df: conditions(AIRPORTS, older, 0.5) }).expect(200),
      ]);
    }
    const served = await visibility(AIRPORTS);
    expect(new Set(served.values)).toEqual(new Set([2]));
    expect(new Set(served.statuses)).toEqual(new Set(['PRESENT']));
  });
});
