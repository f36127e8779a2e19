import { expiredSnapshots, SnapshotAge } from './retention';

const DAY = 86_400_000;
const now = Date.parse('2026-12-01T00:00:00Z');
/** Snapshot i committed i days before `now` ago… so 1 is the oldest: ids 1..n, snapshot n newest. */
function history(n: number): SnapshotAge[] {
  return Array.from({ length: n }, (_, i) => ({ snapshotId: i + 1, committedAt: new Date(now - (n - i) * DAY).toISOString() }));
}

describe('expiredSnapshots (Iceberg semantics: outside the newest N and older than T)', () => {
  it('keep_snapshots alone keeps the newest N', () => {
    expect(expiredSnapshots(history(5), { keepSnapshots: 2 }, new Set(), now)).toEqual([1, 2, 3]);
  });

  it('keep_for alone keeps what is younger, and always the latest', () => {
    expect(expiredSnapshots(history(5), { keepForSeconds: 3 * 86_400 - 1 }, new Set(), now)).toEqual([1, 2, 3]);
    expect(expiredSnapshots(history(5), { keepForSeconds: 0 }, new Set(), now)).toEqual([1, 2, 3, 4]);
  });

  it('both: a snapshot goes only when it is outside the newest N and older than T', () => {
    // Newest 2 are 4 and 5; younger than 3.5 days are 3, 4, 5 (snapshot 2 is 4 days old).
    expect(expiredSnapshots(history(5), { keepSnapshots: 2, keepForSeconds: 3.5 * 86_400 }, new Set(), now)).toEqual([1, 2]);
    // Newest 4 outnumber the young ones: the count wins.
    expect(expiredSnapshots(history(5), { keepSnapshots: 4, keepForSeconds: 60 }, new Set(), now)).toEqual([1]);
  });

  it('never expires a pinned snapshot, nor the only one', () => {
    expect(expiredSnapshots(history(5), { keepSnapshots: 1 }, new Set([2, 4]), now)).toEqual([1, 3]);
    expect(expiredSnapshots(history(1), { keepSnapshots: 1, keepForSeconds: 0 }, new Set(), now)).toEqual([]);
  });

  it('orders by snapshot id whatever order it is given in', () => {
    expect(expiredSnapshots(history(4).reverse(), { keepSnapshots: 2 }, new Set(), now)).toEqual([1, 2]);
  });
});
