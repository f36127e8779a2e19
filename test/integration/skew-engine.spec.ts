import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { evaluateFeature } from '../../src/core/skew/distribution';
import { matchColumns } from '../../src/core/skew/schema-skew';
import { DuckDbSkewEngine } from '../../src/monitoring/skew/duckdb.skew-engine';
import { testDatabase, writeFile } from '../support/duckdb-files';

/** The skew engine on real DuckDB; expected numbers from scipy 1.17.1 / numpy 2.4.6 on the same values. */
describe('DuckDbSkewEngine', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fl-skew-'));
  const db = testDatabase(':memory:', dir);
  const engine = new DuckDbSkewEngine(db);
  const ref = { files: [join(dir, 'ref.parquet')] };
  const cur = { files: [join(dir, 'cur.parquet')] };

  beforeAll(async () => {
    // x: 1,2,3,4 and a null against 2,3,4,10; y: 0…99.9 against 5…104.875; city: a new value and a null jump.
    await writeFile(
      ref.files[0],
      `SELECT i, CASE WHEN i < 4 THEN i + 1 END::DOUBLE AS x, i / 10.0 AS y, ['ber', 'muc', 'ham'][i % 3 + 1] AS city, i % 2 = 0 AS flag,
              TIMESTAMP '2026-01-01' + to_seconds(i) AS ts FROM range(1000) t(i)`,
    );
    await writeFile(
      cur.files[0],
      `SELECT i, CASE WHEN i < 4 THEN [2, 3, 4, 10][i + 1] END::DOUBLE AS x, i / 8.0 + 5 AS y,
              CASE WHEN i % 4 = 0 THEN NULL ELSE ['ber', 'muc', 'cgn'][i % 3 + 1] END AS city, i % 2 = 0 AS flag,
              TIMESTAMP '2026-01-02' + to_seconds(i) AS ts FROM range(800) t(i)`,
    );
  });

  afterAll(async () => {
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const aggregates = async (names: string[]) => {
    const columns = (side: typeof ref) => engine.describe(side).then((cols) => cols.map((c) => ({ feature: c.name, column: c.name, type: c.type })));
    const { matches } = matchColumns(await columns(ref), await columns(cur), names);
    const found = await engine.aggregates(ref, cur, matches);
    return names.map((name) => found[matches.findIndex((m) => m.feature === name)]);
  };

  it('computes K-S and Wasserstein in SQL as scipy does', async () => {
    const [x, y] = await aggregates(['x', 'y']);
    expect(x!.ks!.d).toBeCloseTo(0.25, 12);
    expect(x!.ks!.wasserstein).toBeCloseTo(2.25, 12);
    expect(y!.ks!.d).toBeCloseTo(0.05075, 12);
    expect(y!.ks!.wasserstein).toBeCloseTo(4.9875, 9);
  });

  it('reports counts, nulls, moments and quantiles per side', async () => {
    const [x, y] = await aggregates(['x', 'y']);
    expect(x!.reference).toMatchObject({ count: 1000, nulls: 996, distinct: 4, mean: 2.5, min: 1, max: 4 });
    expect(x!.reference.std).toBeCloseTo(Math.sqrt(1.25), 12);
    expect(y!.reference.quantiles!.p50).toBeCloseTo(49.95, 9);
    expect(y!.current).toMatchObject({ count: 800, nulls: 0, min: 5, max: 104.875 });
  });

  it('bins numbers on shared Sturges bins and counts categories over both sides', async () => {
    const [y, city, flag] = await aggregates(['y', 'city', 'flag']);
    expect(y!.histogram!.edges).toHaveLength(13); // numpy: 12 bins for 1800 values
    expect(y!.histogram!.reference.reduce((a, b) => a + b)).toBe(1000);
    expect(y!.histogram!.current.reduce((a, b) => a + b)).toBe(800);
    expect(y!.categories).toBeNull();
    expect(city!.kind).toBe('categorical');
    expect(Object.fromEntries(city!.categories!.map((c) => [c.value, [c.reference, c.current]]))).toEqual({
      ber: [334, 200],
      muc: [333, 200],
      ham: [333, 0],
      cgn: [0, 200],
    });
    expect(city!.newCategories).toEqual({ count: 1, examples: ['cgn'] });
    expect(city!.current.null_rate).toBeCloseTo(0.25, 12);
    expect(flag!.kind).toBe('categorical');
    expect(flag!.categories!.map((c) => c.value).sort()).toEqual(['false', 'true']);
  });

  it('compares timestamps as numbers, and flags what moved', async () => {
    const [ts, y, flag] = await aggregates(['ts', 'y', 'flag']);
    expect(ts!.kind).toBe('numerical');
    expect(evaluateFeature(ts!).drifted).toBe(true); // a day apart, no overlap
    const yDrift = evaluateFeature(y!);
    expect(yDrift.method).toBe('ks'); // 1000 reference rows
    expect(yDrift.drifted).toBe(false); // scipy: p = 0.19
    expect(evaluateFeature(flag!).method).toBe('z');
    expect(evaluateFeature(flag!).drifted).toBe(false);
  });

  it('narrows a side to a time window', async () => {
    const window = { column: 'ts', start: BigInt(Date.parse('2026-01-02T00:00:10Z')) * 1000n, end: BigInt(Date.parse('2026-01-02T00:00:19Z')) * 1000n };
    expect(await engine.count({ ...cur, window })).toBe(10);
  });
});
