import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { featurelake } from '../support/cli';
import { query } from '../support/duckdb-files';

const FIXTURE = join(__dirname, '../fixtures/format1-training-set');

/** What Parquet says of a file's timestamp column: isAdjustedToUTC=1 is what pandas reads as UTC-aware. */
async function adjustedToUtc(file: string, column = 'event_timestamp'): Promise<boolean> {
  const [row] = await query(`SELECT logical_type FROM parquet_schema('${file}') WHERE name = '${column}'`);
  return /isAdjustedToUTC=1/.test(String(row.logical_type));
}

/**
 * Training data says UTC, as Feast's does: Parquet TIMESTAMP WITH TIME ZONE, text RFC 3339 with
 * a Z. A training set saved before (the fixture, written by featurelake at 3f8c343: metadata
 * format 1, naive Parquet) still verifies byte for byte.
 */
describe('UTC-aware training data', () => {
  let dir: string;
  let repo: string;
  const run = (...args: string[]) => featurelake(repo, args);

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'fl-utc-'));
    repo = join(dir, 'repo');
    cpSync(FIXTURE, repo, { recursive: true });
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('still verifies a training set saved with naive timestamps, and downloads it as text with a Z', async () => {
    expect(run('training-sets', 'verify', 'legacy_set').stdout).toMatch(/^Identical: 3 rows/);
    expect(await adjustedToUtc(join(repo, 'lake/training-sets/legacy_set/data.parquet'))).toBe(false);
    const csv = join(dir, 'legacy.csv');
    run('training-sets', 'download', 'legacy_set', '--output', csv);
    expect(readFileSync(csv, 'utf8').split('\n').slice(1, 4).map((l) => l.split(',')[1])).toEqual(['2026-12-01T10:30:00.000000Z', '2026-12-02T08:00:00.000000Z', '2026-12-03T23:59:59.500000Z']);
  });

  it('saves new training sets with UTC-aware Parquet times (metadata format 2), which verify too', async () => {
    expect(run('training-sets', 'save', 'utc_set', '--feature-service', 'driver_activity', '--entities', join(repo, 'spine.csv')).status).toBe(0);
    expect(JSON.parse(run('training-sets', 'describe', 'utc_set').stdout)).toMatchObject({ format: 2, schema: expect.arrayContaining([{ name: 'event_timestamp', type: 'TIMESTAMP WITH TIME ZONE' }]) });
    expect(await adjustedToUtc(join(repo, 'lake/training-sets/utc_set/data.parquet'))).toBe(true);
    expect(run('training-sets', 'verify', 'utc_set').stdout).toMatch(/^Identical: 3 rows/);
    // The same rows as the set saved before, only the time's type differs.
    const [same] = await query(`SELECT count(*)::INTEGER AS n FROM (SELECT * FROM read_parquet('${join(repo, 'lake/training-sets/utc_set/data.parquet')}') EXCEPT SELECT * REPLACE (event_timestamp::TIMESTAMPTZ AS event_timestamp) FROM read_parquet('${join(repo, 'lake/training-sets/legacy_set/data.parquet')}'))`);
    expect(same.n).toBe(0);
  });

  it.each(['parquet', 'csv', 'jsonl'])('writes get-historical-features output as %s with UTC times', async (format) => {
    if (format === 'parquet') expect(run('materialize-incremental', new Date().toISOString()).status).toBe(0);
    const out = join(dir, `historical.${format}`);
    expect(run('get-historical-features', '--features', 'driver_hourly_stats:conv_rate', '--entities', join(repo, 'spine.csv'), '--output', out).status).toBe(0);
    if (format === 'parquet') expect(await adjustedToUtc(out)).toBe(true);
    else if (format === 'csv') expect(readFileSync(out, 'utf8').split('\n')[1]).toMatch(/^1001,2026-12-01T10:30:00\.000000Z,1,/);
    else expect(JSON.parse(readFileSync(out, 'utf8').split('\n')[0])).toMatchObject({ driver_id: 1001, event_timestamp: '2026-12-01T10:30:00.000000Z' });
  });
});
