import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Redis from 'ioredis';
import { encodeEntityKey } from '../../src/core/entity-key';
import { OnlineRecord } from '../../src/core/online-record';
import { parseTimestamp } from '../../src/core/timestamp';
import { DuckDbDatabase } from '../../src/duckdb/duckdb-database';
import { EmbeddedOnlineStore } from '../../src/online-store/embedded.online-store';
import { OnlineStore } from '../../src/online-store/online-store';
import { RedisOnlineStore } from '../../src/online-store/redis.online-store';
import { testCatalog, testDefinitions } from '../support/catalog';
import { startRedis, TestRedis } from '../support/redis-server';

const t = (iso: string) => parseTimestamp(iso) as bigint;
const catalog = testCatalog();
const drivers = catalog.view('driver_stats');
const zones = catalog.view('zone_stats');

function driver(id: bigint, eventIso: string, createdIso: string | null, rating: number): OnlineRecord {
  return {
    entityKey: encodeEntityKey([id]) as string,
    eventTimestamp: t(eventIso),
    createdTimestamp: createdIso === null ? null : t(createdIso),
    values: [rating, 9_007_199_254_740_993n, true, t('2026-01-01T10:00:00.123456Z'), 'Zoë "z"', -7, 0.5],
  };
}

/** The OnlineStore contract, run against Redis (a real redis-server) and the embedded store. */
describe.each(['redis', 'embedded'] as const)('OnlineStore contract: %s', (kind) => {
  let store: OnlineStore;
  let redis: TestRedis | undefined;
  let dir: string;
  let db: DuckDbDatabase | undefined;
  let project: string;
  let counter = 0;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'fl-online-'));
    if (kind === 'redis') {
      redis = await startRedis();
      store = new RedisOnlineStore(redis.url);
    } else {
      db = new DuckDbDatabase(join(dir, 'online.duckdb'), dir);
      store = new EmbeddedOnlineStore(db);
    }
  });

  beforeEach(() => {
    project = `contract_${kind}_${process.pid}_${counter++}`;
  });

  afterAll(async () => {
    if (store instanceof RedisOnlineStore) await store.close();
    db?.close();
    await redis?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('round-trips every value type exactly, int64 beyond 2^53 and microsecond timestamps included', async () => {
    const record = driver(1n, '2026-01-01T12:00:00Z', '2026-01-01T12:00:01Z', 4.75);
    await store.write(project, drivers, [record]);
    const [[read]] = await store.read(project, [{ view: drivers, entityKeys: [record.entityKey] }]);
    expect(read).toEqual(record);
  });

  it('keeps nulls, NaN and infinities apart', async () => {
    const record: OnlineRecord = { ...driver(2n, '2026-01-01T12:00:00Z', null, Number.NaN), values: [Number.NaN, null, null, null, null, null, Number.NEGATIVE_INFINITY] };
    await store.write(project, drivers, [record]);
    const [[read]] = await store.read(project, [{ view: drivers, entityKeys: [record.entityKey] }]);
    expect(read?.values[0]).toBeNaN();
    expect(read?.values.slice(1, 6)).toEqual([null, null, null, null, null]);
    expect(read?.values[6]).toBe(Number.NEGATIVE_INFINITY);
    expect(read?.createdTimestamp).toBeNull();
  });

  it('never replaces a newer value with an older one, whatever the write order', async () => {
    const newer = driver(3n, '2026-01-02T00:00:00Z', null, 2);
    const older = driver(3n, '2026-01-01T00:00:00Z', '2026-01-05T00:00:00Z', 1);
    await store.write(project, drivers, [newer]);
    await store.write(project, drivers, [older]);
    const [[read]] = await store.read(project, [{ view: drivers, entityKeys: [newer.entityKey] }]);
    expect(read?.values[0]).toBe(2);
  });

  it('breaks equal event times by created time, and lets a full tie go to the new write', async () => {
    const first = driver(4n, '2026-01-01T00:00:00Z', '2026-01-01T00:00:05Z', 1);
    const staleCreated = driver(4n, '2026-01-01T00:00:00Z', '2026-01-01T00:00:01Z', 2);
    const noCreated = driver(4n, '2026-01-01T00:00:00Z', null, 3);
    const sameVersion = driver(4n, '2026-01-01T00:00:00Z', '2026-01-01T00:00:05Z', 4);
    for (const r of [first, staleCreated, noCreated]) await store.write(project, drivers, [r]);
    let [[read]] = await store.read(project, [{ view: drivers, entityKeys: [first.entityKey] }]);
    expect(read?.values[0]).toBe(1);
    await store.write(project, drivers, [sameVersion]);
    [[read]] = await store.read(project, [{ view: drivers, entityKeys: [first.entityKey] }]);
    expect(read?.values[0]).toBe(4);
  });

  it('keeps the newest record when one batch holds several for an entity', async () => {
    const batch = [driver(5n, '2026-01-01T00:00:00Z', null, 1), driver(5n, '2026-01-03T00:00:00Z', null, 3), driver(5n, '2026-01-02T00:00:00Z', null, 2)];
    await store.write(project, drivers, batch);
    const [[read]] = await store.read(project, [{ view: drivers, entityKeys: [batch[0].entityKey] }]);
    expect(read?.values[0]).toBe(3);
  });

  it('answers several views and keys in request order, null for missing and null keys', async () => {
    const zoneKey = encodeEntityKey(['berlin', 7]) as string;
    await store.write(project, drivers, [driver(6n, '2026-01-01T00:00:00Z', null, 6)]);
    await store.write(project, zones, [{ entityKey: zoneKey, eventTimestamp: t('2020-01-01T00:00:00Z'), createdTimestamp: null, values: [0.25] }]);
    const result = await store.read(project, [
      { view: drivers, entityKeys: [encodeEntityKey([999n]), null, encodeEntityKey([6n])] },
      { view: zones, entityKeys: [zoneKey, encodeEntityKey(['berlin', 8])] },
    ]);
    expect(result[0].map((r) => r?.values[0] ?? null)).toEqual([null, null, 6]);
    expect(result[1].map((r) => r?.values[0] ?? null)).toEqual([0.25, null]);
  });

  it('never returns rows written for an older shape of the view', async () => {
    const record = driver(7n, '2026-01-01T00:00:00Z', null, 7);
    await store.write(project, drivers, [record]);
    const reshaped = testDefinitions();
    reshaped.featureViews[0].features = [...reshaped.featureViews[0].features, { name: 'extra', type: 'string' }];
    const newShape = testCatalog(reshaped, 2).view('driver_stats');
    const [[read]] = await store.read(project, [{ view: newShape, entityKeys: [record.entityKey] }]);
    expect(read).toBeNull();
  });

  it('keeps projects apart', async () => {
    const record = driver(8n, '2026-01-01T00:00:00Z', null, 8);
    await store.write(project, drivers, [record]);
    const [[read]] = await store.read(`${project}_other`, [{ view: drivers, entityKeys: [record.entityKey] }]);
    expect(read).toBeNull();
  });

  if (kind === 'redis') {
    it('reads any number of views and entities with one Redis command (one round trip)', async () => {
      const records = Array.from({ length: 50 }, (_, i) => driver(BigInt(100 + i), '2026-01-01T00:00:00Z', null, i));
      await store.write(project, drivers, records);
      const probe = new Redis(redis!.url);
      const mgetCalls = async () => Number(/cmdstat_mget:calls=(\d+)/.exec(await probe.info('commandstats'))?.[1] ?? 0);
      const before = await mgetCalls();
      const commandsBefore = Number(/total_commands_processed:(\d+)/.exec(await probe.info('stats'))?.[1]);
      await store.read(project, [
        { view: drivers, entityKeys: records.map((r) => r.entityKey) },
        { view: zones, entityKeys: [encodeEntityKey(['x', 1])] },
      ]);
      const commandsAfter = Number(/total_commands_processed:(\d+)/.exec(await probe.info('stats'))?.[1]);
      expect(await mgetCalls()).toBe(before + 1);
      // The store's read plus our own INFO call: nothing else reached the server.
      expect(commandsAfter - commandsBefore).toBe(2);
      probe.disconnect();
    });
  }
});
