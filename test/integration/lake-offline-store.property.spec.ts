import fc from 'fast-check';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FeatureCatalog, ResolvedView } from '../../src/core/catalog';
import { Definitions } from '../../src/core/definitions';
import { encodeEntityKey } from '../../src/core/entity-key';
import { Micros } from '../../src/core/timestamp';
import { DuckDbDatabase } from '../../src/duckdb/duckdb-database';
import { LakeOfflineStore } from '../../src/offline-store/lake.offline-store';
import { SourceFile, SourceSnapshot } from '../../src/offline-store/offline-store';
import { testCatalog } from '../support/catalog';
import { query, writeFile } from '../support/duckdb-files';
import { takePending, testOfflineStore } from '../support/offline';

const HOUR = 3_600_000_000n;
const MINUTE = 60_000_000n;
const BASE = 1_767_225_600_000_000n; // 2026-01-01T00:00:00Z
const BUCKETS = 3;

/**
 * The offline tables in the lake against a recompute from scratch, on random histories of
 * ingests (late events among them), incremental runs, window recomputes and compactions, for
 * three kinds of view: without SQL (appended), with SQL and a lookback (hourly sums), and with
 * SQL that needs all history (a running count). After every history the stored rows equal the
 * view's SQL over all the data up to the last run, and what went online for each entity is its
 * newest stored row.
 */
describe('offline tables in the lake equal a recompute from scratch (property)', () => {
  let dir: string;
  let run = 0;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'fl-lake-prop-'));
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const row = fc.record({ k: fc.integer({ min: 0, max: 5 }), minutes: fc.integer({ min: -600, max: 90 }), v: fc.option(fc.integer({ min: 1, max: 5 }), { nil: null, freq: 6 }) });
  const op = fc.oneof(
    { weight: 4, arbitrary: fc.record({ kind: fc.constant('ingest' as const), rows: fc.array(row, { minLength: 1, maxLength: 12 }) }) },
    { weight: 3, arbitrary: fc.record({ kind: fc.constant('run' as const), advanceHours: fc.integer({ min: 0, max: 4 }) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('window' as const), backHours: fc.integer({ min: 0, max: 6 }) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('compact' as const) }) },
  );

  it('keeps stored rows and online values equal to the oracle', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 2, maxLength: 8 }), async (ops) => {
        const world = await World.create(join(dir, `h${++run}`));
        try {
          for (const step of ops) await world.apply(step);
          await world.apply({ kind: 'run', advanceHours: 1 });
          for (const view of world.views) {
            expect({ view: view.def.name, rows: await world.storedRows(view) }).toEqual({ view: view.def.name, rows: await world.oracleRows(view) });
            expect({ view: view.def.name, online: world.onlineOf(view) }).toEqual({ view: view.def.name, online: await world.oracleLatest(view) });
          }
        } finally {
          await world.close();
        }
      }),
      { numRuns: Number(process.env.PROPERTY_RUNS ?? 15) },
    );
  });
});

type Step = { kind: 'ingest'; rows: { k: number; minutes: number; v: number | null }[] } | { kind: 'run'; advanceHours: number } | { kind: 'window'; backHours: number } | { kind: 'compact' };

/** One random history: the source files, the store, what went online, and the oracle over the same files. */
class World {
  private files: SourceFile[] = [];
  private end = BASE + 6n * HOUR;
  private lastRun: Micros | null = null;
  private readonly online = new Map<string, Map<string, unknown>>();

  private constructor(
    private readonly dir: string,
    private readonly db: DuckDbDatabase,
    private readonly store: LakeOfflineStore,
    readonly catalog: FeatureCatalog,
  ) {}

  static async create(dir: string): Promise<World> {
    mkdirSync(dir, { recursive: true });
    const { db, store } = testOfflineStore(dir, BUCKETS, 2);
    return new World(dir, db, store, catalog());
  }

  get views(): ResolvedView[] {
    return ['raw', 'hourly', 'running'].map((name) => this.catalog.view(name));
  }

  async apply(step: Step): Promise<void> {
    if (step.kind === 'ingest') return this.ingest(step.rows);
    if (step.kind === 'run') {
      this.end += BigInt(step.advanceHours) * HOUR;
      for (const view of this.views) await this.everyBucket(view, { kind: 'incremental', end: this.end, mode: 'entities' });
      this.lastRun = this.end;
    } else if (step.kind === 'window' && this.lastRun !== null && this.files.length > 0) {
      const to = this.lastRun - BigInt(step.backHours) * HOUR;
      for (const view of this.views) await this.everyBucket(view, { kind: 'window', start: to - 3n * HOUR, end: to });
    } else if (step.kind === 'compact') {
      for (const view of this.views) for (let b = 0; b < BUCKETS; b++) await this.store.compactBucket(view, b);
    }
  }

  async storedRows(view: ResolvedView): Promise<unknown[]> {
    if (this.lastRun === null || this.files.length === 0) return [];
    const path = join(this.dir, `stored-${view.def.name}.parquet`);
    await this.store.viewRowsToFile(view, {}, path);
    return this.sorted(view, `SELECT * FROM read_parquet('${path}')`);
  }

  async oracleRows(view: ResolvedView): Promise<unknown[]> {
    if (this.lastRun === null || this.files.length === 0) return [];
    return this.sorted(view, `SELECT * FROM (${ORACLE_SQL[view.def.name](this.sourceSql())}) WHERE event_timestamp <= make_timestamp(${this.lastRun}::BIGINT)`);
  }

  onlineOf(view: ResolvedView): Record<string, unknown> {
    return Object.fromEntries([...(this.online.get(view.def.name) ?? new Map())].sort());
  }

  /** Each entity's newest row by the stored order (event time, then features descending, nulls last). */
  async oracleLatest(view: ResolvedView): Promise<Record<string, unknown>> {
    if (this.lastRun === null || this.files.length === 0) return {};
    const feature = view.def.features[0].name;
    const rows = await query(`SELECT k, epoch_us(event_timestamp) AS at, ${feature} AS value FROM (${ORACLE_SQL[view.def.name](this.sourceSql())})
      WHERE event_timestamp <= make_timestamp(${this.lastRun}::BIGINT)
      QUALIFY row_number() OVER (PARTITION BY k ORDER BY event_timestamp DESC, ${feature} DESC NULLS LAST) = 1`);
    return Object.fromEntries(rows.map((r) => [encodeEntityKey([BigInt(r.k as number)]), [BigInt(r.at as number), r.value === null ? null : BigInt(r.value as number)]]).sort());
  }

  async close(): Promise<void> {
    await this.db.close();
  }

  private async ingest(rows: Step & { kind: 'ingest' } extends { rows: infer R } ? R : never): Promise<void> {
    const path = join(this.dir, `source-${this.files.length + 1}.parquet`);
    const times = rows.map((r) => this.end + BigInt(r.minutes) * MINUTE);
    const values = rows.map((r, i) => `(${r.k}, make_timestamp(${times[i]}::BIGINT), ${r.v ?? 'NULL'})`).join(', ');
    await writeFile(path, `SELECT k::BIGINT AS k, ts, v::BIGINT AS v FROM (VALUES ${values}) AS t(k, ts, v)`);
    const min = times.reduce((a, b) => (b < a ? b : a));
    const max = times.reduce((a, b) => (b > a ? b : a));
    this.files.push({ path, rows: rows.length, addedInSnapshot: this.files.length + 1, minTs: min, maxTs: max });
  }

  private async everyBucket(view: ResolvedView, request: Parameters<LakeOfflineStore['materializeBuckets']>[3]): Promise<void> {
    if (this.files.length === 0) return;
    const source: SourceSnapshot = { dataset: view.dataset, snapshotId: this.files.length, files: [...this.files] };
    // Two ranges whose split moves with the run, so that single buckets and shared passes are both checked.
    const split = this.files.length % BUCKETS;
    const all = Array.from({ length: BUCKETS }, (_, b) => b);
    for (const range of [all.slice(0, split), all.slice(split)]) if (range.length > 0) await this.store.materializeBuckets(view, range, source, request);
    const online = this.online.get(view.def.name) ?? new Map<string, unknown>();
    for (const record of await takePending(this.store, view)) online.set(record.entityKey as string, [record.eventTimestamp, record.values[0]]);
    this.online.set(view.def.name, online);
  }

  private sourceSql(): string {
    return `SELECT * FROM read_parquet([${this.files.map((f) => `'${f.path}'`).join(', ')}])`;
  }

  private async sorted(view: ResolvedView, sql: string): Promise<unknown[]> {
    const feature = view.def.features[0].name;
    return query(`SELECT k, strftime(event_timestamp, '%Y-%m-%d %H:%M') AS at, ${feature} AS value FROM (${sql}) ORDER BY k, event_timestamp, ${feature} NULLS FIRST`);
  }
}

/** The views' meaning, written independently of the store's SQL, over a relation of all source rows. */
const ORACLE_SQL: Record<string, (source: string) => string> = {
  raw: (source) => `SELECT k, ts AS event_timestamp, v FROM (${source})`,
  hourly: (source) => `SELECT k, date_trunc('hour', ts) + INTERVAL 1 HOUR AS event_timestamp, sum(v)::BIGINT AS total FROM (${source}) GROUP BY ALL`,
  running: (source) => `SELECT k, ts AS event_timestamp, count(*) OVER (PARTITION BY k ORDER BY ts RANGE UNBOUNDED PRECEDING)::BIGINT AS n FROM (${source})`,
};

function catalog(): FeatureCatalog {
  const definitions: Definitions = {
    project: 'lakeprop',
    entities: [{ name: 'key', joinKeys: [{ name: 'k', type: 'int64' }] }],
    datasets: [{ name: 'events', timestampField: 'ts' }],
    featureViews: [
      { name: 'raw', entities: ['key'], source: 'events', ttlSeconds: null, online: true, incremental: 'entities', features: [{ name: 'v', type: 'int64' }] },
      {
        name: 'hourly',
        entities: ['key'],
        source: 'events',
        ttlSeconds: null,
        online: true,
        incremental: 'entities',
        lookbackSeconds: 3600,
        sql: `SELECT k, date_trunc('hour', ts) + INTERVAL 1 HOUR AS event_timestamp, sum(v)::BIGINT AS total FROM events GROUP BY ALL`,
        features: [{ name: 'total', type: 'int64' }],
      },
      {
        name: 'running',
        entities: ['key'],
        source: 'events',
        ttlSeconds: null,
        online: true,
        incremental: 'entities',
        sql: `SELECT k, ts AS event_timestamp, count(*) OVER (PARTITION BY k ORDER BY ts RANGE UNBOUNDED PRECEDING) AS n FROM events`,
        features: [{ name: 'n', type: 'int64' }],
      },
    ],
    featureServices: [],
    pushSources: [],
  };
  return testCatalog(definitions);
}
