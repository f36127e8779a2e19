import { DuckDBInstance } from '@duckdb/node-api';
import fc from 'fast-check';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FeatureCatalog } from '../../src/core/catalog';
import { Definitions } from '../../src/core/definitions';
import { parseEntityRows } from '../../src/core/entity-rows';
import { resolveSelection } from '../../src/core/feature-selection';
import { DuckDbDatabase } from '../../src/duckdb/duckdb-database';
import { LakeOfflineStore } from '../../src/offline-store/lake.offline-store';
import { FeatureSource, HistoricalQuery } from '../../src/offline-store/offline-store';
import { materializeWindow, testOfflineStore } from '../support/offline';
import { testCatalog } from '../support/catalog';

const HOUR = 3_600_000_000n;
const BASE = 1_767_225_600_000_000n; // 2026-01-01T00:00:00Z

/**
 * The point-in-time join against an independent brute-force oracle, on random data: duplicate
 * event times, created-time ties, nulls, ttl edges (times are whole hours, so a row exactly ttl
 * old is common), entities without rows, two views with a composite and a single key, and the
 * optional created-before-event filter.
 */
describe('point-in-time join matches a brute-force oracle (property)', () => {
  let dir: string;
  let db: DuckDbDatabase;
  let store: LakeOfflineStore;
  let writer: DuckDBInstance;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'fl-prop-'));
    ({ db, store } = testOfflineStore(dir));
    writer = await DuckDBInstance.create(':memory:');
  });

  afterAll(async () => {
    writer.closeSync();
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const hours = fc.integer({ min: 0, max: 12 });
  const created = fc.option(fc.integer({ min: 0, max: 14 }), { nil: null, freq: 3 });
  const rowA = fc.record({ k1: fc.integer({ min: 0, max: 2 }), k2: fc.constantFrom('a', 'b'), ts: hours, created, f: fc.option(fc.integer({ min: -3, max: 3 }).map((n) => n / 2), { nil: null, freq: 5 }), g: fc.option(fc.constantFrom('x', 'y', 'z'), { nil: null, freq: 5 }) });
  const rowB = fc.record({ k1: fc.integer({ min: 0, max: 2 }), ts: hours, created, h: fc.option(fc.integer({ min: 0, max: 4 }), { nil: null, freq: 5 }) });
  const spineRow = fc.record({ k1: fc.integer({ min: 0, max: 3 }), k2: fc.constantFrom('a', 'b', 'c'), ts: fc.integer({ min: 0, max: 14 }) });
  const ttl = fc.option(fc.integer({ min: 1, max: 4 }), { nil: null });

  it('gives the oracle\'s value for every entity row and feature', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(rowA, { maxLength: 25 }), fc.array(rowB, { maxLength: 25 }), fc.array(spineRow, { minLength: 1, maxLength: 20 }), ttl, ttl, fc.boolean(), async (a, b, spine, ttlA, ttlB, createdBeforeEvent) => {
        const catalog = catalogWith(ttlA, ttlB);
        await materialize(catalog, 'va', a, 'k1, k2, ts, created, f, g', (r) => `(${r.k1}, '${r.k2}', ${ts(r.ts)}, ${r.created === null ? 'NULL' : ts(r.created)}, ${r.f ?? 'NULL'}, ${r.g === null ? 'NULL' : `'${r.g}'`})`);
        await materialize(catalog, 'vb', b, 'k1, ts, created, h', (r) => `(${r.k1}, ${ts(r.ts)}, ${r.created === null ? 'NULL' : ts(r.created)}, ${r.h ?? 'NULL'})`);
        const selection = resolveSelection(catalog, { features: ['va:f', 'vb:h', 'va:g'] });
        const rows = parseEntityRows(
          { k1: spine.map((s) => s.k1), k2: spine.map((s) => s.k2), event_timestamp: spine.map((s) => new Date(Number((BASE + BigInt(s.ts) * HOUR) / 1000n)).toISOString()) },
          selection.joinKeys,
          { withTimestamps: true, maxRows: { max: 100, field: 'limits.max_historical_rows' } },
        );
        const result = await store.historicalColumns({ spine: { kind: 'rows', rows }, selection, createdBeforeEvent });
        const got = spine.map((_, i) => result.features.map((f) => f.values[i]));
        const expected = spine.map((s) => {
          const bestA = best(a.filter((r) => r.k1 === s.k1 && r.k2 === s.k2), s.ts, ttlA, createdBeforeEvent, (r) => [r.f, r.g]);
          const bestB = best(b.filter((r) => r.k1 === s.k1), s.ts, ttlB, createdBeforeEvent, (r) => [r.h]);
          return [bestA?.f ?? null, bestB?.h === null || bestB === null ? null : BigInt(bestB.h), bestA?.g ?? null];
        });
        expect(got).toEqual(expected);
      }),
      { numRuns: 60 },
    );
  });

  it('gives the same bytes in parts merged by row id as in one piece, from offline rows and from snapshots', async () => {
    const spineFile = join(dir, 'spine.parquet');
    // A lake of its own: the first property's runs leave many files behind.
    const own = testOfflineStore(join(dir, 'parts'));
    await fc.assert(
      fc.asyncProperty(
        fc.array(rowA, { maxLength: 25 }),
        fc.array(rowB, { maxLength: 25 }),
        fc.array(spineRow, { minLength: 1, maxLength: 20 }),
        fc.integer({ min: 2, max: 5 }),
        fc.boolean(),
        fc.boolean(),
        async (a, b, spine, count, createdBeforeEvent, fromSnapshots) => {
          const catalog = catalogWith(2, null);
          const files = {
            va: await materialize(catalog, 'va', a, 'k1, k2, ts, created, f, g', (r) => `(${r.k1}, '${r.k2}', ${ts(r.ts)}, ${r.created === null ? 'NULL' : ts(r.created)}, ${r.f ?? 'NULL'}, ${r.g === null ? 'NULL' : `'${r.g}'`})`, own.store),
            vb: await materialize(catalog, 'vb', b, 'k1, ts, created, h', (r) => `(${r.k1}, ${ts(r.ts)}, ${r.created === null ? 'NULL' : ts(r.created)}, ${r.h ?? 'NULL'})`, own.store),
          };
          const c = await writer.connect();
          await c.run(`COPY (SELECT * FROM (VALUES ${spine.map((s) => `(${s.k1}, '${s.k2}', ${ts(s.ts)}, 'label${s.ts}')`).join(', ')}) AS t(k1, k2, event_timestamp, label)) TO '${spineFile}' (FORMAT parquet)`);
          c.closeSync();
          const selection = resolveSelection(catalog, { features: ['va:f', 'vb:h', 'va:g'] });
          const features: FeatureSource = fromSnapshots
            ? { kind: 'snapshots', sources: new Map(['va', 'vb'].map((v) => [v, { dataset: catalog.view(v).dataset, files: [files[v as 'va' | 'vb']] }])) }
            : { kind: 'offline' };
          const query: HistoricalQuery = { spine: { kind: 'file', path: spineFile, format: 'parquet', name: 'spine' }, selection, createdBeforeEvent, features };
          const whole = join(dir, 'whole.parquet');
          await own.store.historicalToFile(query, 'parquet', whole, { withMatchTimestamps: true });
          const parts = [];
          for (let index = 0; index < count; index++) {
            const path = join(dir, `part-${index}.parquet`);
            await own.store.historicalToFile({ ...query, part: { index, count, keys: selection.views[0].view.joinKeys } }, 'parquet', path, { withMatchTimestamps: true });
            parts.push(path);
          }
          const merged = join(dir, 'merged.parquet');
          const result = await own.store.mergeParts(parts, merged);
          expect(result.rows).toBe(spine.length);
          expect(sha256(readFileSync(merged))).toBe(sha256(readFileSync(whole)));
        },
      ),
      { numRuns: 25 },
    );
    await own.db.close();
  });

  /** Writes the rows to Parquet and materializes the view over all time (replacing the previous run's rows). */
  async function materialize<R>(catalog: FeatureCatalog, viewName: string, rows: R[], columns: string, literal: (r: R) => string, into = store) {
    const file = join(dir, `${viewName}.parquet`);
    const c = await writer.connect();
    const values = rows.length ? `VALUES ${rows.map(literal).join(', ')}` : null;
    const empty = viewName === 'va' ? "SELECT 0 AS k1, 'a' AS k2, TIMESTAMP '2000-01-01' AS ts, NULL::TIMESTAMP AS created, NULL::DOUBLE AS f, NULL::VARCHAR AS g WHERE false" : "SELECT 0 AS k1, TIMESTAMP '2000-01-01' AS ts, NULL::TIMESTAMP AS created, NULL::BIGINT AS h WHERE false";
    await c.run(`COPY (${values ? `SELECT * FROM (${values}) AS t(${columns})` : empty}) TO '${file}' (FORMAT parquet)`);
    c.closeSync();
    const view = catalog.view(viewName);
    await materializeWindow(into, view, view.dataset, [file], BASE - 1000n * HOUR, BASE + 1000n * HOUR);
    return file;
  }
});

function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** The oracle: Feast's rule by brute force over every candidate row. */
function best<R extends { ts: number; created: number | null }>(rows: R[], at: number, ttl: number | null, createdBeforeEvent: boolean, features: (r: R) => (number | string | null)[]): R | null {
  const candidates = rows.filter((r) => r.ts <= at && (ttl === null || r.ts >= at - ttl) && (!createdBeforeEvent || (r.created ?? r.ts) <= at));
  candidates.sort((x, y) => compareDesc(x.ts, y.ts) || compareDesc(x.created, y.created) || tieBreak(features(x), features(y)));
  return candidates[0] ?? null;
}

/** Descending, nulls last (DuckDB's DESC NULLS LAST). */
function compareDesc(x: number | string | null, y: number | string | null): number {
  if (x === y) return 0;
  if (x === null) return 1;
  if (y === null) return -1;
  return x > y ? -1 : 1;
}

function tieBreak(x: (number | string | null)[], y: (number | string | null)[]): number {
  for (let i = 0; i < x.length; i++) {
    const c = compareDesc(x[i], y[i]);
    if (c !== 0) return c;
  }
  return 0;
}

function ts(hour: number): string {
  return `TIMESTAMP '${new Date(Number((BASE + BigInt(hour) * HOUR) / 1000n)).toISOString().replace('T', ' ').replace('Z', '')}'`;
}

function catalogWith(ttlA: number | null, ttlB: number | null): FeatureCatalog {
  const definitions: Definitions = {
    project: 'prop',
    entities: [
      { name: 'pair', joinKeys: [{ name: 'k1', type: 'int64' }, { name: 'k2', type: 'string' }] },
      { name: 'one', joinKeys: [{ name: 'k1', type: 'int64' }] },
    ],
    datasets: [
      { name: 'da', timestampField: 'ts', createdTimestampField: 'created' },
      { name: 'db', timestampField: 'ts', createdTimestampField: 'created' },
    ],
    featureViews: [
      { name: 'va', entities: ['pair'], source: 'da', ttlSeconds: ttlA === null ? null : ttlA * 3600, online: false, incremental: 'entities', features: [{ name: 'f', type: 'float64' }, { name: 'g', type: 'string' }] },
      { name: 'vb', entities: ['one'], source: 'db', ttlSeconds: ttlB === null ? null : ttlB * 3600, online: false, incremental: 'entities', features: [{ name: 'h', type: 'int64' }] },
    ],
    featureServices: [],
    pushSources: [],
  };
  return testCatalog(definitions);
}
