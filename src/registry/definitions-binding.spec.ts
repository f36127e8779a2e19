import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { testDatabase } from '../../test/support/duckdb-files';
import { FieldIssue, formatIssue } from '../common/field-reader';
import { DuckDbDatabase } from '../duckdb/duckdb-database';
import { ColumnSchema } from '../lake/dataset-manifest';
import { ViewBinder } from '../offline-store/view-binder';
import { DefinitionsBinding } from './definitions-binding';
import { parseDefinitionsFile } from './definitions-parser';
import { assembleDefinitions } from './definitions-validator';

const FLIGHTS: ColumnSchema[] = [
  { name: 'date', type: 'TIMESTAMP' },
  { name: 'origin', type: 'VARCHAR' },
  { name: 'airport', type: 'VARCHAR' },
  { name: 'delay', type: 'INTEGER' },
  { name: 'legs', type: 'INTEGER[]' },
];

const REPO = `entities:
  - { name: airport, join_keys: [airport], value_type: string }
datasets:
  - { name: flights, timestamp_field: date }
  - { name: airports }
feature_views:
  - name: daily
    entities: [airport]
    source: flights
    sql: |
      SELECT origin AS airport, date AS event_timestamp,
             avg(delay)::DOUBLE AS avg_delay
      FROM flights GROUP BY ALL
    features:
      - { name: avg_delay, type: float64 }
  - name: raw
    entities: [airport]
    source: flights
    features:
      - { name: delay, type: int64 }
`;

describe('DefinitionsBinding (real DuckDB, empty tables of the datasets schemas)', () => {
  let dir: string;
  let db: DuckDbDatabase;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'fl-bind-'));
    db = testDatabase(':memory:', dir);
  });
  afterAll(async () => {
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function bind(text: string, schemas: Record<string, ColumnSchema[]> = { flights: FLIGHTS }) {
    const issues: FieldIssue[] = [];
    const files = [parseDefinitionsFile('repo/a.yaml', text, issues)];
    const definitions = assembleDefinitions('p', files);
    expect(issues.map(formatIssue)).toEqual([]);
    const unbound = await new DefinitionsBinding(async (name) => schemas[name] ?? null, new ViewBinder(db)).check(definitions, files);
    return { issues: issues.map(formatIssue), unbound };
  }

  it('finds nothing wrong with views that bind', async () => {
    expect(await bind(REPO)).toEqual({ issues: [], unbound: [] });
  });

  it('names the file, the sql field and the line of the SQL that does not bind', async () => {
    const { issues } = await bind(REPO.replace('avg(delay)', 'avg(delya)'));
    expect(issues).toEqual([expect.stringMatching(/^repo\/a\.yaml: feature_views\[0\]\.sql: does not bind: Binder Error: .*delya.* \(against dataset flights's columns: date, origin, airport, delay, legs\) \(line 12\)$/)]);
  });

  it('refuses SQL that reads another dataset than its source, and SQL that lacks a declared feature', async () => {
    expect((await bind(REPO.replace('FROM flights GROUP', 'FROM trains GROUP'))).issues).toEqual([expect.stringMatching(/feature_views\[0\]\.sql: does not bind: Catalog Error: Table with name trains does not exist.* \(line 13\)$/)]);
    const missing = await bind(REPO.replace('AS avg_delay', 'AS mean_delay'));
    expect(missing.issues).toEqual([expect.stringMatching(/feature_views\[0\]\.sql: returns no column avg_delay \(it returns airport, event_timestamp, mean_delay\)/)]);
  });

  it('refuses a column that does not cast to its declared type', async () => {
    const { issues } = await bind(REPO.replace('avg(delay)::DOUBLE AS avg_delay', 'list(delay) AS avg_delay'));
    expect(issues).toEqual([expect.stringMatching(/feature_views\[0\]\.sql: returns values that do not cast to the declared types: avg_delay is INTEGER\[\], declared float64/)]);
  });

  it('checks a view without sql column by column, and a misspelt timestamp_field once, at the dataset', async () => {
    const feature = await bind(REPO.replace('{ name: delay, type: int64 }', '{ name: delay_minutes, type: int64 }'));
    expect(feature.issues).toEqual([expect.stringMatching(/feature_views\[1\]\.features\[0\]\.name: dataset flights has no column "delay_minutes" \(its columns: date, origin, airport, delay, legs\).* \(line 20\)$/)]);
    const keys = await bind(REPO, { flights: FLIGHTS.filter((c) => c.name !== 'airport') });
    expect(keys.issues.join('\n')).toMatch(/feature_views\[1\]\.entities: dataset flights has no column airport for the join keys/);
    const ts = await bind(REPO.replace('timestamp_field: date', 'timestamp_field: dte'));
    expect(ts.issues).toEqual([expect.stringMatching(/^repo\/a\.yaml: datasets\[0\]\.timestamp_field: dataset flights has no column "dte" \(its columns: date, origin, airport, delay, legs\) \(line 4\)$/)]);
  });

  it('names expectation columns the dataset does not have', async () => {
    const { issues } = await bind(REPO.replace('{ name: flights, timestamp_field: date }', '{ name: flights, timestamp_field: date, expectations: { columns: { delay: { min: 0 }, price: { min: 0 } }, unique: [origin, gate] } }'));
    expect(issues).toEqual([expect.stringMatching(/datasets\[0\]\.expectations: dataset flights has no column price, gate \(its columns: /)]);
  });

  it('leaves a view whose dataset has no data for its first materialization, and says so', async () => {
    expect(await bind(REPO, {})).toEqual({ issues: [], unbound: [{ view: 'daily', dataset: 'flights' }, { view: 'raw', dataset: 'flights' }] });
  });
});
