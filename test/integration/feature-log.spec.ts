import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TempFiles } from '../../src/common/temp-files';
import { resolveSelection } from '../../src/core/feature-selection';
import { parseEntityRows } from '../../src/core/entity-rows';
import { OnlineRecord } from '../../src/core/online-record';
import { logShape } from '../../src/monitoring/logging/feature-log';
import { LogBuffer } from '../../src/monitoring/logging/log-buffer';
import { DuckDbLogSink } from '../../src/monitoring/logging/duckdb.log-sink';
import { testCatalog } from '../support/catalog';
import { query, testDatabase } from '../support/duckdb-files';
import { datasetService, objectStore } from '../support/lake';

/** The log sink on real DuckDB and a local lake: every value type survives, typed as declared. */
describe('DuckDbLogSink', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fl-log-'));
  const catalog = testCatalog();
  const store = objectStore('local', dir);
  const { datasets, close } = datasetService(store, catalog, dir);
  const db = testDatabase(':memory:', dir);
  const sink = new DuckDbLogSink(db, datasets, new TempFiles(join(dir, 'tmp')));
  const selection = resolveSelection(catalog, { featureService: 'all' });
  const shape = logShape('all', selection);

  afterAll(async () => {
    await db.close();
    await close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('appends requests as one snapshot per flush, every type exact', async () => {
    const big = 2n ** 62n + 1n;
    const seen = 1_764_000_000_123_456n;
    const now = 1_764_000_001_000_000n;
    const rows = parseEntityRows({ driver_id: [1, 2, 3], city: ['berlin', 'x', 'y'], zone: [7, 8, 9] }, selection.joinKeys, { withTimestamps: false, maxRows: { max: 10, field: 'limits.max_historical_rows' } });
    const record = (values: OnlineRecord['values'], age = 1_000_000n): OnlineRecord => ({ entityKey: 'k', eventTimestamp: now - age, createdTimestamp: null, values });
    const records = [
      [record([4.25, big, true, seen, 'Zoë "the driver"', 7, 0.5]), record([Number.NaN, -1n, false, 0n, '', -7, 1.5]), record([1, 1n, true, 1n, 'old', 1, 1], 7200_000_000n)],
      [record([0.125]), null, record([0.5])],
    ];
    const chunksOf = (ids: string[]) => {
      const buffer = new LogBuffer(shape);
      for (const id of ids) buffer.add(id, now, rows, records);
      return buffer.chunks;
    };
    await sink.append(shape, chunksOf(['r-1', 'r-2']));
    await sink.append(shape, chunksOf(['r-3']));
    const snapshot = await datasets.snapshot(shape.dataset.name);
    expect(snapshot).toMatchObject({ snapshotId: 2, rowCount: 9 });
    const files = (await datasets.localFiles(snapshot!)).map((f) => `'${f}'`).join(', ');
    const types = await query(`SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_parquet([${files}]))`);
    expect(Object.fromEntries(types.map((t) => [t.column_name, t.column_type]))).toMatchObject({
      request_id: 'VARCHAR',
      request_time: 'TIMESTAMP',
      driver_id: 'BIGINT',
      zone: 'INTEGER',
      served__driver_stats__trips: 'BIGINT',
      served__driver_stats__last_seen: 'TIMESTAMP',
      served__driver_stats__score32: 'FLOAT',
      served__driver_stats__active: 'BOOLEAN',
      status__driver_stats: 'VARCHAR',
    });
    const logged = await query(`
      SELECT request_id, epoch_us(request_time)::VARCHAR AS t, served__driver_stats__trips::VARCHAR AS trips, epoch_us(served__driver_stats__last_seen)::VARCHAR AS seen,
             served__driver_stats__name AS name, isnan(served__driver_stats__rating) AS nan, status__driver_stats AS driver_status, status__zone_stats AS zone_status
      FROM read_parquet([${files}]) WHERE request_id = 'r-1' ORDER BY driver_id`);
    expect(logged).toEqual([
      { request_id: 'r-1', t: '1764000001000000', trips: big.toString(), seen: seen.toString(), name: 'Zoë "the driver"', nan: false, driver_status: 'PRESENT', zone_status: 'PRESENT' },
      { request_id: 'r-1', t: '1764000001000000', trips: '-1', seen: '0', name: '', nan: true, driver_status: 'PRESENT', zone_status: 'NOT_FOUND' },
      { request_id: 'r-1', t: '1764000001000000', trips: null, seen: null, name: null, nan: null, driver_status: 'OUTSIDE_MAX_AGE', zone_status: 'PRESENT' },
    ]);
  });
});
