import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseEntityRows } from '../../src/core/entity-rows';
import { resolveSelection } from '../../src/core/feature-selection';
import { formatTimestamp, parseTimestamp } from '../../src/core/timestamp';
import { DuckDbDatabase } from '../../src/duckdb/duckdb-database';
import { LakeOfflineStore } from '../../src/offline-store/lake.offline-store';
import { HistoricalQuery } from '../../src/offline-store/offline-store';
import { testCatalog } from '../support/catalog';
import { query, writeFile } from '../support/duckdb-files';
import { materializeWindow, takePending, testOfflineStore } from '../support/offline';
import { encodeEntityKey } from '../../src/core/entity-key';

const catalog = testCatalog();
const t = (iso: string) => parseTimestamp(iso) as bigint;

/**
 * A small case checked by hand against Feast's rule: latest row with
 * `entity time − ttl ≤ row time ≤ entity time`, ties on event time to the latest created time.
 * driver_stats has ttl 1h; zone_stats has no ttl and a composite key.
 */
const DRIVER_ROWS = `
  SELECT * FROM (VALUES
    (1::BIGINT, TIMESTAMP '2026-01-01 10:00:00', TIMESTAMP '2026-01-01 10:00:00', 1.0),
    (1, TIMESTAMP '2026-01-01 10:00:00', TIMESTAMP '2026-01-01 10:05:00', 2.0),
    (1, TIMESTAMP '2026-01-01 10:00:00', NULL, 9.0),
    (1, TIMESTAMP '2026-01-01 11:00:00', NULL, 3.0),
    (2, TIMESTAMP '2026-01-01 09:00:00', NULL, 5.0)
  ) AS r(driver_id, ts, created, rating)`;

const SPINE = [
  // driver_id, event_timestamp, expected rating, why
  [1, '2026-01-01T10:30:00Z', 2.0, 'tie on event time: the latest created time wins (a null created time loses)'],
  [1, '2026-01-01T11:00:00Z', 3.0, 'row time equal to entity time is included'],
  [1, '2026-01-01T10:59:59.999999Z', 2.0, 'one microsecond before the 11:00 row'],
  [2, '2026-01-01T10:00:00Z', 5.0, 'exactly ttl old: the lower bound is inclusive'],
  [2, '2026-01-01T10:00:00.000001Z', null, 'one microsecond older than ttl'],
  [3, '2026-01-01T12:00:00Z', null, 'an entity with no rows'],
  [1, '2026-01-01T10:30:00Z', 2.0, 'identical to the first row: an identical output row'],
  [1, '2026-01-01T09:59:00Z', null, 'before the entity has any row'],
  [1, '2026-01-01T12:00:00+01:00', 3.0, 'an offset is converted to UTC (11:00Z)'],
] as const;

describe('point-in-time join on real DuckDB', () => {
  let dir: string;
  let db: DuckDbDatabase;
  let store: LakeOfflineStore;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'fl-pit-'));
    ({ db, store } = testOfflineStore(dir));
    const drivers = join(dir, 'drivers.parquet');
    const zones = join(dir, 'zones.parquet');
    // driver_stats declares more features than the case needs; they get constant values.
    await writeFile(drivers, `SELECT *, 0::BIGINT AS trips, true AS active, ts AS last_seen, 'x' AS name, 1 AS level, 0.5::FLOAT AS score32 FROM (${DRIVER_ROWS})`);
    await writeFile(zones, `SELECT 'berlin' AS city, 7 AS zone, TIMESTAMP '2020-01-01' AS ts, NULL::TIMESTAMP AS created, 0.25 AS demand`);
    const dataset = catalog.registry.datasets[0];
    const window = [t('2000-01-01T00:00:00Z'), t('2100-01-01T00:00:00Z')] as const;
    await materializeWindow(store, catalog.view('driver_stats'), dataset, [drivers], ...window);
    await materializeWindow(store, catalog.view('zone_stats'), dataset, [zones], ...window);
    expect(await takePending(store, catalog.view('driver_stats'))).toHaveLength(2); // the first run's entities, now online
  });

  afterAll(async () => {
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  function spineQuery(fullFeatureNames = false): HistoricalQuery {
    const selection = resolveSelection(catalog, { features: ['driver_stats:rating', 'zone_stats:demand'], fullFeatureNames });
    const rows = parseEntityRows(
      {
        driver_id: SPINE.map((r) => r[0]),
        city: SPINE.map((_, i) => (i === 5 ? 'paris' : 'berlin')),
        zone: SPINE.map(() => 7),
        event_timestamp: SPINE.map((r) => r[1]),
      },
      selection.joinKeys,
      { withTimestamps: true, maxRows: { max: 100, field: 'limits.max_historical_rows' } },
    );
    return { spine: { kind: 'rows', rows }, selection };
  }

  it('matches the hand-checked answers row by row, in input order', async () => {
    const result = await store.historicalColumns(spineQuery());
    expect(result.entityColumns[0].values).toEqual(SPINE.map((r) => BigInt(r[0])));
    const ratings = result.features[0].values;
    SPINE.forEach(([, , expected, why], i) => expect({ row: i, why, rating: ratings[i] }).toEqual({ row: i, why, rating: expected }));
  });

  it('applies no lower bound to a view without ttl, and joins on every part of a composite key', async () => {
    const result = await store.historicalColumns(spineQuery());
    expect(result.features[1].values).toEqual(SPINE.map((_, i) => (i === 5 ? null : 0.25)));
  });

  it('reports the matched row time only when the value is within ttl', async () => {
    const result = await store.historicalColumns(spineQuery());
    expect(formatTimestamp(result.features[0].matchedAt[0] as bigint)).toBe('2026-01-01T10:00:00Z');
    expect(result.features[0].matchedAt[4]).toBeNull();
  });

  it('writes the same rows to Parquet, in input order, with view__feature names on request', async () => {
    const path = join(dir, 'out.parquet');
    const { rows } = await store.historicalToFile(spineQuery(true), 'parquet', path);
    expect(rows).toBe(SPINE.length);
    const written = await query(`SELECT * FROM read_parquet('${path}')`);
    expect(Object.keys(written[0])).toEqual(['driver_id', 'city', 'zone', 'event_timestamp', 'driver_stats__rating', 'zone_stats__demand']);
    expect(written.map((r) => r.driver_stats__rating)).toEqual(SPINE.map((r) => r[2]));
  });

  it('with created_before_event, ignores rows created after the entity time (no backfill leaks)', async () => {
    // Driver 1's 10:00 rows: created 10:00 (1.0), 10:05 (2.0), and without a created time (9.0; it
    // counts as created at its event time, and loses ties to a known created time).
    const selection = resolveSelection(catalog, { features: ['driver_stats:rating'] });
    const rows = parseEntityRows({ driver_id: [1, 1, 1], event_timestamp: ['2026-01-01T10:02:00Z', '2026-01-01T10:06:00Z', '2026-01-01T11:00:00Z'] }, selection.joinKeys, { withTimestamps: true, maxRows: { max: 10, field: 'limits.max_historical_rows' } });
    const plain = await store.historicalColumns({ spine: { kind: 'rows', rows }, selection });
    const strict = await store.historicalColumns({ spine: { kind: 'rows', rows }, selection, createdBeforeEvent: true });
    expect(plain.features[0].values).toEqual([2.0, 2.0, 3.0]);
    expect(strict.features[0].values).toEqual([1.0, 2.0, 3.0]);
  });

  it('refuses a view that was never materialized', async () => {
    const other = testCatalog(undefined, 2);
    const selection = resolveSelection(other, { features: ['driver_stats:rating'] });
    const reshaped = { ...selection, views: selection.views.map((v) => ({ ...v, view: { ...v.view, fingerprint: 'different' } })) };
    const rows = parseEntityRows({ driver_id: [1], event_timestamp: ['2026-01-01T00:00:00Z'] }, selection.joinKeys, { withTimestamps: true, maxRows: { max: 10, field: 'limits.max_historical_rows' } });
    await expect(store.historicalColumns({ spine: { kind: 'rows', rows }, selection: reshaped })).rejects.toMatchObject({ code: 'FEATURE_VIEW_NOT_MATERIALIZED' });
  });

  it('recomputing a window replaces exactly that window', async () => {
    const view = catalog.view('driver_stats');
    const dataset = catalog.registry.datasets[0];
    const file = join(dir, 'drivers-v2.parquet');
    await writeFile(file, `SELECT 1::BIGINT AS driver_id, TIMESTAMP '2026-01-01 11:00:00' AS ts, NULL::TIMESTAMP AS created, 30.0 AS rating, 0::BIGINT AS trips, true AS active, ts AS last_seen, 'x' AS name, 1 AS level, 0.5::FLOAT AS score32`);
    const runs = await materializeWindow(store, view, dataset, [file], t('2026-01-01T10:30:00Z'), t('2026-01-01T23:00:00Z'));
    expect(runs.reduce((n, r) => n + r.rowsWritten, 0)).toBe(1);
    // Only the entity whose rows changed waits to be written online, with its new newest row.
    const pending = await takePending(store, view);
    expect(pending.map((r) => [r.entityKey, r.values[0]])).toEqual([[encodeEntityKey([1n]), 30.0]]);
    const result = await store.historicalColumns(spineQuery());
    expect(result.features[0].values.slice(0, 3)).toEqual([2.0, 30.0, 2.0]);
  });
});
