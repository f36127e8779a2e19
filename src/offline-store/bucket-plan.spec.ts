import { testCatalog, testDefinitions } from '../../test/support/catalog';
import { FeatureCatalog } from '../core/catalog';
import { formatTimestamp, Micros } from '../core/timestamp';
import { planBucket } from './bucket-plan';
import { SourceFile, SourceSnapshot } from './offline-store';
import { BucketState, emptyBucket } from './view-manifest';

const H = 3_600_000_000n;
const file = (n: number, minH: number, maxH: number): SourceFile => ({ path: `f${n}`, rows: 10, addedInSnapshot: n, minTs: BigInt(minH) * H, maxTs: BigInt(maxH) * H });
const snapshot = (...files: SourceFile[]): SourceSnapshot => ({ dataset: testDefinitions().datasets[0], snapshotId: files.length, files });
const consumed = (snapshotId: number, watermarkH: number): BucketState => ({ ...emptyBucket(), consumedSnapshot: snapshotId, watermark: formatTimestamp(BigInt(watermarkH) * H), revision: 3 });

function catalogWith(sql: string | undefined, lookbackSeconds?: number): FeatureCatalog {
  const definitions = testDefinitions();
  definitions.featureViews[1] = { ...definitions.featureViews[1], sql, lookbackSeconds };
  return testCatalog(definitions);
}

describe('planBucket', () => {
  const plain = catalogWith(undefined).view('zone_stats');
  const windowed = catalogWith('SELECT city, zone, ts AS event_timestamp, demand FROM events', 7200).view('zone_stats');
  const allHistory = catalogWith('SELECT city, zone, ts AS event_timestamp, demand FROM events').view('zone_stats');
  const incremental = (endH: number) => ({ kind: 'incremental' as const, end: (BigInt(endH) * H) as Micros, mode: 'entities' as const });

  it('recomputes a window over every file, replacing that window', () => {
    const plan = planBucket(plain, consumed(1, 5), snapshot(file(1, 0, 5), file(2, 6, 8)), { kind: 'window', start: 2n * H, end: 4n * H });
    expect(plan).toMatchObject({ upToDate: false, files: ['f1', 'f2'], replaceAll: false, windows: [{ from: formatTimestamp(2n * H), fromInclusive: true, to: formatTimestamp(4n * H) }] });
    expect(plan).not.toHaveProperty('consumedSnapshot'); // a window leaves the incremental state alone
  });

  it('computes everything on a first run, or with incremental: full', () => {
    expect(planBucket(plain, emptyBucket(), snapshot(file(1, 0, 5)), incremental(6))).toMatchObject({ scope: { kind: 'all', end: 6n * H }, replaceAll: true, consumedSnapshot: 1 });
    const full = planBucket(plain, consumed(1, 5), snapshot(file(1, 0, 5), file(2, 6, 7)), { ...incremental(8), mode: 'full' });
    expect(full).toMatchObject({ scope: { kind: 'all' }, replaceAll: true, files: ['f1', 'f2'] });
  });

  it('recomputes everything when files were taken away since the bucket ran (a rollback), and only then', () => {
    // Snapshot 3 rolled back to 1: file 2 (consumed) is gone, and nothing new was added.
    const rolledBack: SourceSnapshot = { ...snapshot(file(1, 0, 5)), snapshotId: 3, lastRewrite: 3 };
    expect(planBucket(plain, consumed(2, 8), rolledBack, incremental(9))).toMatchObject({ scope: { kind: 'all' }, replaceAll: true, files: ['f1'], consumedSnapshot: 3 });
    // Once a run consumed the rollback, later appends are incremental again.
    const appended: SourceSnapshot = { ...snapshot(file(1, 0, 5), file(4, 9, 10)), snapshotId: 4, lastRewrite: 3 };
    expect(planBucket(plain, consumed(3, 8), appended, incremental(11))).toMatchObject({ scope: { kind: 'append', newFiles: ['f4'] }, replaceAll: false });
  });

  it('recomputes everything when a new file merges rows it had consumed with rows it had not (a compaction), and not when it had them all or none', () => {
    const merged = (first: number, last: number): SourceFile => ({ ...file(last, 0, 8), path: 'merged', firstAddedInSnapshot: first });
    const compacted = (f: SourceFile): SourceSnapshot => ({ ...snapshot(f), snapshotId: 5 });
    // Consumed up to 2; the merged file holds the rows of snapshots 1–4.
    expect(planBucket(plain, consumed(2, 5), compacted(merged(1, 4)), incremental(9))).toMatchObject({ scope: { kind: 'all' }, replaceAll: true, consumedSnapshot: 5 });
    // Consumed up to 4: the merged file is not new to it.
    expect(planBucket(plain, consumed(4, 8), compacted(merged(1, 4)), incremental(9))).toMatchObject({ scope: { kind: 'append' }, replaceAll: false, newRows: 0 });
    // Consumed up to 2, the merged file holds snapshots 3–4 only: all new, appended.
    expect(planBucket(plain, consumed(2, 5), compacted({ ...merged(3, 4), minTs: 6n * H }), incremental(9))).toMatchObject({ scope: { kind: 'append', newFiles: ['merged'] }, replaceAll: false });
  });

  it('is up to date when the snapshot was consumed and the end is not past the watermark', () => {
    expect(planBucket(plain, consumed(2, 9), snapshot(file(1, 0, 5), file(2, 6, 8)), incremental(9))).toEqual({ upToDate: true, newRows: 0 });
  });

  it('keeps the watermark when asked to end before it (it never moves back)', () => {
    expect(planBucket(plain, consumed(1, 9), snapshot(file(1, 0, 5), file(2, 6, 8)), incremental(7))).toMatchObject({ watermark: formatTimestamp(9n * H), scope: { end: 9n * H } });
  });

  it('appends new rows of a view without SQL, reading older files only past the watermark', () => {
    const plan = planBucket(plain, consumed(2, 6), snapshot(file(1, 0, 3), file(2, 4, 7), file(3, 7, 9)), incremental(10));
    expect(plan).toMatchObject({ scope: { kind: 'append', newFiles: ['f3'], olderFiles: ['f2'] }, files: ['f3', 'f2'], newRows: 10, consumedSnapshot: 3 });
    // Nothing stored is newer than the watermark: no window (it would hide nothing, and keep the online phase from reading the new file alone).
    expect(plan).toMatchObject({ windows: [] });
    // A window run stored rows past it: those are recomputed, and the window replaces them.
    const stored = { ...consumed(2, 6), files: [{ key: 'b/1.parquet', version: 1, rows: 5, minTs: formatTimestamp(0n), maxTs: formatTimestamp(8n * H), unique: true }] };
    expect(planBucket(plain, stored, snapshot(file(1, 0, 3), file(2, 4, 7), file(3, 7, 9)), incremental(10))).toMatchObject({
      windows: [{ from: formatTimestamp(6n * H), fromInclusive: false, to: formatTimestamp(10n * H) }],
    });
  });

  it('replaces the entities of late rows of a view without SQL from the first late time, reading only from there', () => {
    const plan = planBucket(plain, consumed(2, 6), snapshot(file(1, 0, 3), file(2, 4, 7), file(3, 5, 9)), incremental(10));
    expect(plan).toMatchObject({ scope: { kind: 'entities', newFiles: ['f3'], from: 5n * H }, inputFrom: 5n * H, files: ['f2', 'f3'] });
  });

  it('reads from the first new event time minus the lookback for a view with SQL and a lookback', () => {
    const plan = planBucket(windowed, consumed(2, 6), snapshot(file(1, 0, 2), file(2, 3, 6), file(3, 5, 9)), incremental(10));
    expect(plan).toMatchObject({ scope: { kind: 'entities', from: 5n * H }, inputFrom: 3n * H, files: ['f2', 'f3'] });
  });

  it('reads all history of the touched entities for a view with SQL and no lookback', () => {
    const plan = planBucket(allHistory, consumed(2, 6), snapshot(file(1, 0, 2), file(2, 3, 6), file(3, 5, 9)), incremental(10));
    expect(plan).toMatchObject({ scope: { kind: 'entities', from: null }, inputFrom: null, files: ['f1', 'f2', 'f3'] });
  });

  it('does not narrow by time when a new file has no time range (its rows could be anywhere)', () => {
    const untimed = { ...file(3, 0, 0), minTs: null, maxTs: null };
    expect(planBucket(windowed, consumed(2, 6), snapshot(file(1, 0, 2), file(2, 3, 6), untimed), incremental(10))).toMatchObject({ inputFrom: null, scope: { from: null }, files: ['f1', 'f2', 'f3'] });
    expect(planBucket(plain, consumed(2, 6), snapshot(file(1, 0, 2), file(2, 3, 6), untimed), incremental(10))).toMatchObject({ scope: { kind: 'entities', from: null } });
  });
});
