import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Redis from 'ioredis';
import { encodeEntityKey } from '../../src/core/entity-key';
import { OnlineRecord } from '../../src/core/online-record';
import { parseTimestamp } from '../../src/core/timestamp';
import { DuckDbDatabase } from '../../src/duckdb/duckdb-database';
import { testDatabase } from '../support/duckdb-files';
import { EmbeddedOnlineStore } from '../../src/online-store/embedded.online-store';
import { OnlineStore } from '../../src/online-store/online-store';
import { RedisOnlineStore } from '../../src/online-store/redis.online-store';
import { testCatalog, testDefinitions } from '../support/catalog';
import { startRedisCluster, TestRedisCluster, cli } from '../support/redis-cluster';
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

/** Records of driver_stats (ttl 1 h) are stamped in 2099 so that none expires during the test. */
/** The OnlineStore contract, run against Redis, a real three-node Redis Cluster, and the embedded store. */
describe.each(['redis', 'redis-cluster', 'embedded'] as const)('OnlineStore contract: %s', (kind) => {
  let store: OnlineStore;
  let redis: TestRedis | undefined;
  let cluster: TestRedisCluster | undefined;
  let dir: string;
  let db: DuckDbDatabase | undefined;
  let project: string;
  let counter = 0;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'fl-online-'));
    if (kind === 'redis') {
      redis = await startRedis();
      store = new RedisOnlineStore({ url: redis.url, cluster: false });
    } else if (kind === 'redis-cluster') {
      cluster = await startRedisCluster();
      store = new RedisOnlineStore({ url: cluster.url, cluster: true });
    } else {
      db = testDatabase(join(dir, 'online.duckdb'), dir);
      store = new EmbeddedOnlineStore(db);
    }
  });

  beforeEach(() => {
    project = `contract_${kind}_${process.pid}_${counter++}`;
  });

  afterAll(async () => {
    if (store instanceof RedisOnlineStore) await store.close();
    await db?.close();
    await redis?.stop();
    await cluster?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('round-trips every value type exactly, int64 beyond 2^53 and microsecond timestamps included', async () => {
    const record = driver(1n, '2099-01-01T12:00:00Z', '2026-01-01T12:00:01Z', 4.75);
    await store.write(project, drivers, [record]);
    const [[read]] = await store.read(project, [{ view: drivers, entityKeys: [record.entityKey] }]);
    expect(read).toEqual(record);
  });

  it('keeps nulls, NaN and infinities apart', async () => {
    const record: OnlineRecord = { ...driver(2n, '2099-01-01T12:00:00Z', null, Number.NaN), values: [Number.NaN, null, null, null, null, null, Number.NEGATIVE_INFINITY] };
    await store.write(project, drivers, [record]);
    const [[read]] = await store.read(project, [{ view: drivers, entityKeys: [record.entityKey] }]);
    expect(read?.values[0]).toBeNaN();
    expect(read?.values.slice(1, 6)).toEqual([null, null, null, null, null]);
    expect(read?.values[6]).toBe(Number.NEGATIVE_INFINITY);
    expect(read?.createdTimestamp).toBeNull();
  });

  it('never replaces a newer value with an older one, whatever the write order', async () => {
    const newer = driver(3n, '2099-01-02T00:00:00Z', null, 2);
    const older = driver(3n, '2099-01-01T00:00:00Z', '2026-01-05T00:00:00Z', 1);
    await store.write(project, drivers, [newer]);
    await store.write(project, drivers, [older]);
    const [[read]] = await store.read(project, [{ view: drivers, entityKeys: [newer.entityKey] }]);
    expect(read?.values[0]).toBe(2);
  });

  it('breaks equal event times by created time, and lets a full tie go to the new write', async () => {
    const first = driver(4n, '2099-01-01T00:00:00Z', '2026-01-01T00:00:05Z', 1);
    const staleCreated = driver(4n, '2099-01-01T00:00:00Z', '2026-01-01T00:00:01Z', 2);
    const noCreated = driver(4n, '2099-01-01T00:00:00Z', null, 3);
    const sameVersion = driver(4n, '2099-01-01T00:00:00Z', '2026-01-01T00:00:05Z', 4);
    for (const r of [first, staleCreated, noCreated]) await store.write(project, drivers, [r]);
    let [[read]] = await store.read(project, [{ view: drivers, entityKeys: [first.entityKey] }]);
    expect(read?.values[0]).toBe(1);
    await store.write(project, drivers, [sameVersion]);
    [[read]] = await store.read(project, [{ view: drivers, entityKeys: [first.entityKey] }]);
    expect(read?.values[0]).toBe(4);
  });

  it('keeps the newest record when one batch holds several for an entity', async () => {
    const batch = [driver(5n, '2099-01-01T00:00:00Z', null, 1), driver(5n, '2099-01-03T00:00:00Z', null, 3), driver(5n, '2099-01-02T00:00:00Z', null, 2)];
    await store.write(project, drivers, batch);
    const [[read]] = await store.read(project, [{ view: drivers, entityKeys: [batch[0].entityKey] }]);
    expect(read?.values[0]).toBe(3);
  });

  it('answers several views and keys in request order, null for missing and null keys', async () => {
    const zoneKey = encodeEntityKey(['berlin', 7]) as string;
    await store.write(project, drivers, [driver(6n, '2099-01-01T00:00:00Z', null, 6)]);
    await store.write(project, zones, [{ entityKey: zoneKey, eventTimestamp: t('2020-01-01T00:00:00Z'), createdTimestamp: null, values: [0.25] }]);
    const result = await store.read(project, [
      { view: drivers, entityKeys: [encodeEntityKey([999n]), null, encodeEntityKey([6n])] },
      { view: zones, entityKeys: [zoneKey, encodeEntityKey(['berlin', 8])] },
    ]);
    expect(result[0].map((r) => r?.values[0] ?? null)).toEqual([null, null, 6]);
    expect(result[1].map((r) => r?.values[0] ?? null)).toEqual([0.25, null]);
  });

  it('never returns rows written for an older shape of the view', async () => {
    const record = driver(7n, '2099-01-01T00:00:00Z', null, 7);
    await store.write(project, drivers, [record]);
    const reshaped = testDefinitions();
    reshaped.featureViews[0].features = [...reshaped.featureViews[0].features, { name: 'extra', type: 'string' }];
    const newShape = testCatalog(reshaped, 2).view('driver_stats');
    const [[read]] = await store.read(project, [{ view: newShape, entityKeys: [record.entityKey] }]);
    expect(read).toBeNull();
  });

  it('keeps an epoch marker per view shape that never expires and never reads as a record', async () => {
    expect(await store.readEpoch(project, drivers)).toBeNull();
    await store.writeEpoch(project, drivers, 3);
    await store.writeEpoch(project, drivers, 4);
    expect([await store.readEpoch(project, drivers), await store.readEpoch(project, zones)]).toEqual([4, null]);
    const definitions = testDefinitions();
    definitions.featureViews[0].features = [...definitions.featureViews[0].features, { name: 'extra', type: 'string' }];
    expect(await store.readEpoch(project, testCatalog(definitions, 2).view('driver_stats'))).toBeNull(); // another shape is another table
    const [[record]] = await store.read(project, [{ view: drivers, entityKeys: ['~epoch'] }]);
    expect(record).toBeNull();
  });

  it('keeps projects apart', async () => {
    const record = driver(8n, '2099-01-01T00:00:00Z', null, 8);
    await store.write(project, drivers, [record]);
    const [[read]] = await store.read(`${project}_other`, [{ view: drivers, entityKeys: [record.entityKey] }]);
    expect(read).toBeNull();
  });

  it('removes every record and epoch marker of a project on teardown, and nothing of a project whose name it starts', async () => {
    const other = `${project}_x`;
    const records = [1n, 2n, 3n].map((id) => driver(id, '2099-01-01T00:00:00Z', null, Number(id)));
    await store.write(project, drivers, records);
    await store.writeEpoch(project, drivers, 7);
    await store.write(other, drivers, [records[0]]);
    await store.writeEpoch(other, drivers, 8);
    expect(await store.deleteProject(project)).toBe(4);
    expect(await store.read(project, [{ view: drivers, entityKeys: records.map((r) => r.entityKey) }])).toEqual([[null, null, null]]);
    expect(await store.readEpoch(project, drivers)).toBeNull();
    expect((await store.read(other, [{ view: drivers, entityKeys: [records[0].entityKey] }]))[0][0]?.values[0]).toBe(1);
    expect(await store.readEpoch(other, drivers)).toBe(8);
    expect(await store.deleteProject(project)).toBe(0);
  });

  it('expires a record one ttl after it stopped being served, and never expires one without ttl', async () => {
    const hourAgo = new Date(Date.now() - 3_600_000).toISOString();
    const threeHoursAgo = new Date(Date.now() - 3 * 3_600_000).toISOString();
    const inGrace = driver(9n, hourAgo.replace(/\.\d+Z$/, 'Z'), null, 1); // ttl 1 h: OUTSIDE_MAX_AGE, still stored
    const gone = driver(10n, threeHoursAgo.replace(/\.\d+Z$/, 'Z'), null, 2); // past ttl + grace
    const forever = { entityKey: encodeEntityKey(['old', 1]) as string, eventTimestamp: t('1990-01-01T00:00:00Z'), createdTimestamp: null, values: [1.5] };
    await store.write(project, drivers, [inGrace, gone]);
    await store.write(project, zones, [forever]);
    const [[a, b], [c]] = await store.read(project, [
      { view: drivers, entityKeys: [inGrace.entityKey, gone.entityKey] },
      { view: zones, entityKeys: [forever.entityKey] },
    ]);
    expect([a?.values[0], b, c?.values[0]]).toEqual([1, null, 1.5]);
  });

  if (kind === 'redis') {
    it('sets the key expiry from the ttl and refreshes it on write', async () => {
      const record = driver(11n, '2099-01-01T00:00:00Z', null, 1);
      await store.write(project, drivers, [record]);
      const probe = new Redis(redis!.url);
      const key = `fl:${project}:driver_stats:${drivers.fingerprint}:${record.entityKey}`;
      expect(Number(await probe.call('PEXPIRETIME', key))).toBe(Date.parse('2099-01-01T00:00:00Z') + 2 * 3_600_000);
      await store.write(project, drivers, [driver(11n, '2099-01-02T00:00:00Z', null, 2)]);
      expect(Number(await probe.call('PEXPIRETIME', key))).toBe(Date.parse('2099-01-02T00:00:00Z') + 2 * 3_600_000);
      probe.disconnect();
    });
  }

  if (kind === 'redis-cluster') {
    it('spreads entities over the nodes and reads them with at most one round trip per node', async () => {
      const records = Array.from({ length: 60 }, (_, i) => driver(BigInt(200 + i), '2099-01-01T00:00:00Z', null, i));
      await store.write(project, drivers, records);
      const keysPerNode = cluster!.ports.map((port) => Number(/keys=(\d+)/.exec(cli(port, 'info', 'keyspace'))?.[1] ?? 0));
      expect(keysPerNode.every((n) => n > 0)).toBe(true);
      // Network read events per node, as Redis counts them; the probe itself costs a fixed number.
      const reads = () => cluster!.ports.map((port) => Number(/total_reads_processed:(\d+)/.exec(cli(port, 'info', 'stats'))?.[1]));
      const idle = reads();
      const probeCost = reads().map((n, i) => n - idle[i]);
      const before = reads();
      const [result] = await store.read(project, [{ view: drivers, entityKeys: records.map((r) => r.entityKey) }]);
      const after = reads();
      expect(result.map((r) => r?.values[0])).toEqual(records.map((r) => r.values[0]));
      expect(after.map((n, i) => n - before[i] - probeCost[i])).toEqual([1, 1, 1]);
    });
  }

  if (kind === 'redis') {
    it('reads any number of views and entities with one Redis command (one round trip)', async () => {
      const records = Array.from({ length: 50 }, (_, i) => driver(BigInt(100 + i), '2099-01-01T00:00:00Z', null, i));
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
