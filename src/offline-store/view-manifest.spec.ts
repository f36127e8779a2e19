import { applyBucketChange, BucketState, clearPending, emptyBucket, emptyManifest, markAllPending, nextVersion, pendingAppendsOnly, pendingFiles, pendingWindows, readShape, ViewFile, withoutShadowed } from './view-manifest';

const fileOf = (version: number, extra: Partial<ViewFile> = {}): ViewFile => ({ key: `b/${version}.parquet`, version, rows: 1, minTs: null, maxTs: null, unique: true, ...extra });

describe('view manifest transitions', () => {
  const empty = emptyManifest('v', 'fp', 2, 'probe');

  it('adds files to one bucket and marks them pending; a task that read an older revision is refused', () => {
    const one = applyBucketChange(empty, 1, { readRevision: 0, add: [fileOf(10)], markPending: true, consumedSnapshot: 4, watermark: 'w' });
    expect(one.bucketStates[1]).toMatchObject({ files: [fileOf(10)], pendingFrom: 10, consumedSnapshot: 4, watermark: 'w', revision: 1 });
    expect(one.bucketStates[0]).toEqual(empty.bucketStates[0]);
    expect(() => applyBucketChange(one, 1, { readRevision: 0, add: [fileOf(11)], markPending: true })).toThrow(expect.objectContaining({ code: 'COMMIT_CONFLICT' }));
  });

  it('replaces every file with replaceAll, and keeps the earliest pending version', () => {
    const one = applyBucketChange(empty, 0, { readRevision: 0, add: [fileOf(10)], markPending: true });
    const two = applyBucketChange(one, 0, { readRevision: 1, add: [fileOf(20)], markPending: true });
    expect(two.bucketStates[0]).toMatchObject({ pendingFrom: 10, files: [fileOf(10), fileOf(20)] });
    const compacted = applyBucketChange(clearPending(two, 0, two.bucketStates[0]), 0, { readRevision: 3, add: [fileOf(30)], replaceAll: true, markPending: false });
    expect(compacted.bucketStates[0]).toMatchObject({ files: [fileOf(30)], windows: [], pendingFrom: null });
  });

  it('marks a window replacement pending even with no new file (it hides stored rows)', () => {
    const window = { version: 15, from: null, fromInclusive: true, to: 't' };
    const next = applyBucketChange(empty, 0, { readRevision: 0, add: [], windows: [window], markPending: true });
    expect(next.bucketStates[0].pendingFrom).toBe(15);
    expect(pendingWindows(next.bucketStates[0])).toEqual([window]);
    expect(readShape(next.bucketStates)).toMatchObject({ merge: true });
  });

  it('clears pending only if nothing was committed to the bucket since it was read', () => {
    const one = applyBucketChange(empty, 0, { readRevision: 0, add: [fileOf(10)], markPending: true });
    const seen = one.bucketStates[0];
    const two = applyBucketChange(one, 0, { readRevision: 1, add: [fileOf(20)], markPending: true });
    expect(clearPending(two, 0, seen)).toBe(two); // the newer file's entities stay pending
    expect(pendingFiles(clearPending(one, 0, seen).bucketStates[0])).toEqual([]);
    expect(pendingFiles(two.bucketStates[0])).toEqual([fileOf(10), fileOf(20)]);
  });

  it('marks every bucket pending in full after an online loss', () => {
    expect(markAllPending(empty).bucketStates.map((s) => [s.pendingAll, s.revision])).toEqual([
      [true, 1],
      [true, 1],
    ]);
  });

  it('orders versions after everything the bucket holds, whatever the writer clock says', () => {
    const state = applyBucketChange(empty, 0, { readRevision: 0, add: [fileOf(1_000)], markPending: false }).bucketStates[0];
    expect(nextVersion(state, 5)).toBe(1_001);
    expect(nextVersion(state, 2_000)).toBe(2_000);
  });

  it('tells when pending files only append rows newer than the rest (the online phase then reads them alone)', () => {
    const at = (day: number) => `2026-01-0${day}T00:00:00.000000Z`;
    const stored = applyBucketChange(empty, 0, { readRevision: 0, add: [fileOf(10, { minTs: at(1), maxTs: at(2) })], markPending: false });
    const append = (state: typeof stored, file: ViewFile) => applyBucketChange(state, 0, { readRevision: state.bucketStates[0].revision, add: [file], markPending: true });
    expect(pendingAppendsOnly(append(stored, fileOf(20, { minTs: at(3), maxTs: at(4) })).bucketStates[0])).toBe(true);
    // A late row (not newer than what is stored), a replacement, or a window: the whole bucket is read.
    expect(pendingAppendsOnly(append(stored, fileOf(20, { minTs: at(2), maxTs: at(4) })).bucketStates[0])).toBe(false);
    expect(pendingAppendsOnly(append(stored, fileOf(20, { minTs: at(3), maxTs: at(4), replacesKey: 'b/20.replaces.parquet' })).bucketStates[0])).toBe(false);
    const windowed = applyBucketChange(stored, 0, { readRevision: 1, add: [fileOf(20, { minTs: at(3), maxTs: at(4) })], windows: [{ version: 20, from: at(3), fromInclusive: true, to: at(4) }], markPending: true });
    expect(pendingAppendsOnly(windowed.bucketStates[0])).toBe(false);
    expect(pendingAppendsOnly(markAllPending(append(stored, fileOf(20, { minTs: at(3), maxTs: at(4) }))).bucketStates[0])).toBe(false);
  });

  describe('withoutShadowed', () => {
    const day = (d: number) => `2026-01-${String(d).padStart(2, '0')}T00:00:00Z`;
    const ranged = (version: number, lo: number, hi: number, extra: Partial<ViewFile> = {}) => fileOf(version, { minTs: day(lo), maxTs: day(hi), ...extra });
    const state = (files: ViewFile[], windows: BucketState['windows'], extra: Partial<BucketState> = {}): BucketState => ({ ...emptyBucket(), files, windows, ...extra });

    it('drops the files a later window hides entirely, and the windows left with nothing to hide (a full rematerialization)', () => {
      const window = { version: 30, from: day(1), fromInclusive: true, to: day(9) };
      const pruned = withoutShadowed(state([ranged(10, 1, 9), ranged(20, 2, 9), ranged(30, 1, 9)], [window]));
      expect(pruned).toEqual({ files: [ranged(30, 1, 9)], windows: [] });
    });

    it('keeps a file with rows outside the window, and the window that still hides some of its rows', () => {
      const window = { version: 30, from: day(5), fromInclusive: false, to: day(9) };
      expect(withoutShadowed(state([ranged(10, 1, 9), ranged(30, 6, 9)], [window]))).toBeNull();
      // A row exactly at an exclusive start is not hidden.
      expect(withoutShadowed(state([ranged(10, 5, 9), ranged(30, 6, 9)], [window]))).toBeNull();
      const pruned = withoutShadowed(state([ranged(5, 1, 4), ranged(10, 6, 9), ranged(30, 6, 9)], [window]));
      expect(pruned).toEqual({ files: [ranged(5, 1, 4), ranged(30, 6, 9)], windows: [window] });
    });

    it('keeps a hidden file whose sidecar still hides rows of a kept earlier file, and does nothing while something is pending', () => {
      const window = { version: 30, from: day(5), fromInclusive: true, to: day(9) };
      const files = [ranged(5, 1, 4), ranged(10, 6, 9, { replacesKey: 'b/10.replaces.parquet' }), ranged(30, 5, 9)];
      expect(withoutShadowed(state(files, [window]))).toBeNull();
      expect(withoutShadowed(state([ranged(10, 1, 9), ranged(30, 1, 9)], [{ ...window, from: null }], { pendingFrom: 30 }))).toBeNull();
      expect(withoutShadowed(state([ranged(10, 1, 9), ranged(30, 1, 9)], []))).toBeNull();
    });
  });
});
