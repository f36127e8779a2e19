import { INestApplication } from '@nestjs/common';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/load-config';
import { DatasetService } from '../../src/lake/dataset.service';
import { RegistryService } from '../../src/registry/registry.service';
import { startApp } from '../support/app';
import { parsePythonJson, PyFloat, PyInt, python310ReadsTimestamp, PyValue } from '../support/python-json';
import { startRedis, TestRedis } from '../support/redis-server';

/**
 * Feast's clients against featurelake, body for body: what Feast 0.66's RemoteOnlineStore,
 * FeatureStore (remote topology) and push client send (feast/infra/online_stores/remote.py,
 * feature_store.py, feature_server.py's request models), and what those clients do with the
 * answer — read as Python's json reads it (an integral number is an int), timestamps as Python
 * 3.10's fromisoformat reads them, errors as FeastError.from_error_detail re-raises them.
 */
const DEFINITIONS = `
entities:
  - { name: driver, join_keys: [driver_id], value_type: int64 }
datasets:
  - { name: driver_stats, timestamp_field: ts, created_timestamp_field: created_at }
feature_views:
  - name: driver_hourly_stats
    entities: [driver]
    source: driver_stats
    ttl: 3650d
    features:
      - { name: conv_rate, type: float64 }
      - { name: acc_rate, type: float32 }
      - { name: avg_daily_trips, type: int64 }
push_sources:
  - { name: driver_stats_push, dataset: driver_stats }
feature_services:
  - name: driver_activity
    features: [driver_hourly_stats:conv_rate, driver_hourly_stats:avg_daily_trips]
`;

/** Classes of feast.errors that FeastError.from_error_detail can re-raise (errors.py). */
const FEAST_ERROR_CLASSES = ['FeatureViewNotFoundException', 'FeatureServiceNotFoundException', 'PushSourceNotFoundException', 'FeatureNameCollisionError', 'FeastPermissionError'];

/** What Feast's client raises for an error answer (rest_error_handler.py): the named class, or a bare RuntimeError. */
function raisedByFeastClient(text: string): { class: string; message: string } {
  const detail = parsePythonJson(text);
  if (typeof detail !== 'string') return { class: 'RuntimeError', message: text };
  try {
    const m = JSON.parse(detail) as Record<string, unknown>;
    if (m.module === 'feast.errors' && typeof m.class === 'string' && typeof m.message === 'string' && FEAST_ERROR_CLASSES.includes(m.class)) return { class: m.class, message: m.message };
  } catch {
    // not a detail: the client falls back to the status check
  }
  return { class: 'RuntimeError', message: detail };
}

describe.each(['redis', 'embedded'] as const)("Feast 0.66's clients against featurelake (%s online store)", (online) => {
  let dir: string;
  let redis: TestRedis | undefined;
  let app: INestApplication;
  let base: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'fl-feast-'));
    const repo = join(dir, 'repo');
    mkdirSync(repo);
    writeFileSync(join(repo, 'featurelake.yaml'), 'project: feastcompat\nlake:\n  uri: file://../lake\n');
    writeFileSync(join(repo, 'defs.yaml'), DEFINITIONS);
    const env: Record<string, string> = { FEATURELAKE_STATE_DIR: join(dir, 'state') };
    if (online === 'redis') {
      redis = await startRedis();
      Object.assign(env, { FEATURELAKE_ONLINE_TYPE: 'redis', FEATURELAKE_REDIS_URL: redis.url });
    }
    app = await startApp(loadConfig(repo, env));
    await app.listen(0, '127.0.0.1');
    base = await app.getUrl();
    await app.get(RegistryService).apply();
    const rows = [
      { driver_id: 1001, ts: '2026-11-01T10:00:00Z', created_at: '2026-11-01T10:00:00Z', conv_rate: 0.5, acc_rate: 0.75, avg_daily_trips: 12 },
      { driver_id: 1002, ts: '2026-11-01T10:00:00Z', created_at: '2026-11-01T10:00:00Z', conv_rate: 3, acc_rate: 1, avg_daily_trips: 7 },
    ];
    const file = join(dir, 'stats.jsonl');
    writeFileSync(file, rows.map((r) => JSON.stringify(r)).join('\n'));
    await app.get(DatasetService).ingest('driver_stats', [{ path: file, format: 'jsonl', name: 'stats.jsonl' }]);
  }, 60_000);

  afterAll(async () => {
    await app?.close();
    await redis?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  /** POSTs the body exactly as text (as Python's requests sends json.dumps of it). */
  async function post(path: string, text: string): Promise<{ status: number; text: string; code: string | null }> {
    const response = await fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: text });
    return { status: response.status, text: await response.text(), code: response.headers.get('x-error-code') };
  }

  const results = (text: string) => (parsePythonJson(text) as { results: { values: PyValue[]; statuses: string[]; event_timestamps: string[] }[] }).results;

  it('materializes what FeatureStore.materialize and materialize_incremental send in remote topology', async () => {
    const window = await post(
      '/materialize',
      '{"start_ts": "2026-10-01T00:00:00+00:00", "end_ts": "2026-11-02T00:00:00+00:00", "feature_views": ["driver_hourly_stats"], "disable_event_timestamp": false, "full_feature_names": false}',
    );
    expect(window.status).toBe(200);
    const everything = await post('/materialize', '{"start_ts": "2026-10-01T00:00:00", "end_ts": "2026-10-02T00:00:00", "feature_views": null, "disable_event_timestamp": true, "full_feature_names": false}');
    expect(everything.status).toBe(200);
    const incremental = await post('/materialize-incremental?async=true', '{"end_ts": "2026-11-02T00:00:00.123456+00:00", "feature_views": null, "full_feature_names": false}');
    expect(incremental.status).toBe(202);
  });

  it('answers an online read by features with floats as floats, ints as ints and timestamps Python 3.10 reads', async () => {
    const response = await post(
      '/get-online-features',
      '{"entities": {"driver_id": [1001, 1002, 9999]}, "full_feature_names": false, "include_feature_view_version_metadata": false, "features": ["driver_hourly_stats:conv_rate", "driver_hourly_stats:acc_rate", "driver_hourly_stats:avg_daily_trips"]}',
    );
    expect(response.status).toBe(200);
    const body = parsePythonJson(response.text) as { metadata: { feature_names: string[] } };
    expect(body.metadata.feature_names).toEqual(['driver_id', 'conv_rate', 'acc_rate', 'avg_daily_trips']);
    const [ids, conv, acc, trips] = results(response.text);
    expect(ids.values).toEqual([new PyInt(1001n), new PyInt(1002n), new PyInt(9999n)]);
    expect(conv.values).toEqual([new PyFloat(0.5), new PyFloat(3), null]); // 3 prints as 3.0: a float
    expect(acc.values).toEqual([new PyFloat(0.75), new PyFloat(1), null]);
    expect(trips.values).toEqual([new PyInt(12n), new PyInt(7n), null]);
    expect(conv.statuses).toEqual(['PRESENT', 'PRESENT', 'NOT_FOUND']);
    // RemoteOnlineStore._get_event_ts reads results[1].event_timestamps[0] with fromisoformat.
    for (const column of results(response.text)) for (const ts of column.event_timestamps) expect(python310ReadsTimestamp(ts)).toBe(true);
    expect(conv.event_timestamps[0]).toBe('2026-11-01T10:00:00Z');
  });

  it('answers a read by feature service, with features: [] or without features, with full names and the views metadata', async () => {
    const bodies = [
      '{"entities": {"driver_id": [1001]}, "full_feature_names": false, "include_feature_view_version_metadata": false, "feature_service": "driver_activity", "features": []}',
      '{"entities": {"driver_id": [1001]}, "full_feature_names": false, "include_feature_view_version_metadata": false, "feature_service": "driver_activity"}',
    ];
    for (const text of bodies) {
      const response = await post('/get-online-features', text);
      expect(response.status).toBe(200);
      expect((parsePythonJson(response.text) as { metadata: { feature_names: string[] } }).metadata.feature_names).toEqual(['driver_id', 'conv_rate', 'avg_daily_trips']);
    }
    const full = await post('/get-online-features', '{"entities": {"driver_id": [1001]}, "full_feature_names": true, "include_feature_view_version_metadata": true, "feature_service": "driver_activity", "features": [], "a_field_of_a_later_feast": 1}');
    expect(full.status).toBe(200);
    expect((parsePythonJson(full.text) as { metadata: unknown }).metadata).toEqual({
      feature_names: ['driver_id', 'driver_hourly_stats__conv_rate', 'driver_hourly_stats__avg_daily_trips'],
      feature_view_metadata: [{ name: 'driver_hourly_stats', version: new PyInt(0n) }],
    });
  });

  it('takes RemoteOnlineStore.online_write_batch rows on /write-to-online-store, and serves them', async () => {
    // As online_write_batch builds it: naive UTC isoformat() times, a None created time, ints for an integral float.
    const write = await post(
      '/write-to-online-store',
      '{"feature_view_name": "driver_hourly_stats", "df": {"driver_id": [2001, 2002], "conv_rate": [0.25, 4], "acc_rate": [0.5, 0.125], "avg_daily_trips": [3, 4], "event_timestamp": ["2026-11-05T08:30:00", "2026-11-05T08:30:00.250000"], "created": [null, "2026-11-05T08:31:00"]}, "allow_registry_cache": false}',
    );
    expect([write.status, write.text]).toEqual([200, expect.any(String)]);
    const read = await post('/get-online-features', '{"entities": {"driver_id": [2001, 2002]}, "features": ["driver_hourly_stats:conv_rate"], "full_feature_names": false, "include_feature_view_version_metadata": false}');
    const [, conv] = results(read.text);
    expect(conv.values).toEqual([new PyFloat(0.25), new PyFloat(4)]);
    expect(conv.event_timestamps).toEqual(['2026-11-05T08:30:00Z', '2026-11-05T08:30:00.250Z']);
  });

  it.each(['online', 'offline', 'online_and_offline'])('takes a push to %s as the push client sends it', async (to) => {
    const driver = { online: 3001, offline: 3002, online_and_offline: 3003 }[to];
    const response = await post(
      '/push',
      `{"push_source_name": "driver_stats_push", "df": {"driver_id": [${driver}], "ts": ["2026-11-06T00:00:00"], "created_at": ["2026-11-06T00:00:00"], "conv_rate": [1.0], "acc_rate": [0.5], "avg_daily_trips": [2]}, "allow_registry_cache": true, "to": "${to}", "transform_on_write": true}`,
    );
    expect(response.status).toBe(200);
    const read = await post('/get-online-features', `{"entities": {"driver_id": [${driver}]}, "features": ["driver_hourly_stats:avg_daily_trips"], "full_feature_names": false}`);
    expect(results(read.text)[1].statuses).toEqual([to === 'offline' ? 'NOT_FOUND' : 'PRESENT']);
  });

  it.each([
    ['an unknown feature view', '/get-online-features', '{"entities": {"driver_id": [1]}, "features": ["nope:x"], "full_feature_names": false}', 404, 'FEATURE_VIEW_NOT_FOUND', 'FeatureViewNotFoundException'],
    ['an unknown feature service', '/get-online-features', '{"entities": {"driver_id": [1]}, "feature_service": "nope", "features": []}', 404, 'FEATURE_SERVICE_NOT_FOUND', 'FeatureServiceNotFoundException'],
    ['an unknown push source', '/push', '{"push_source_name": "nope", "df": {"driver_id": [1]}, "to": "online"}', 422, 'PUSH_SOURCE_NOT_FOUND', 'PushSourceNotFoundException'],
    ['an unknown view to write', '/write-to-online-store', '{"feature_view_name": "nope", "df": {"driver_id": [1]}}', 404, 'FEATURE_VIEW_NOT_FOUND', 'FeatureViewNotFoundException'],
    ['an unknown view to materialize', '/materialize-incremental', '{"end_ts": "2026-11-02T00:00:00", "feature_views": ["nope"], "full_feature_names": false}', 404, 'FEATURE_VIEW_NOT_FOUND', 'FeatureViewNotFoundException'],
    ['no features at all', '/get-online-features', '{"entities": {"driver_id": [1]}, "features": []}', 400, 'VALIDATION_FAILED', 'RuntimeError'],
    ['a version (view versioning)', '/materialize', '{"start_ts": "2026-10-01T00:00:00", "end_ts": "2026-11-02T00:00:00", "version": "v2"}', 400, 'VALIDATION_FAILED', 'RuntimeError'],
  ])('answers %s so that Feast\'s client raises what Feast\'s server would make it raise', async (_what, path, text, status, code, raised) => {
    const response = await post(path, text);
    expect([response.status, response.code]).toEqual([status, code]);
    expect(raisedByFeastClient(response.text)).toEqual({ class: raised, message: expect.any(String) });
  });

  it('keeps { code, message, details } with X-Error-Code on the rest of the API', async () => {
    const response = await fetch(`${base}/datasets/nope`);
    expect(response.headers.get('x-error-code')).toBe('DATASET_NOT_FOUND');
    expect(await response.json()).toMatchObject({ code: 'DATASET_NOT_FOUND', message: expect.any(String) });
  });
});
