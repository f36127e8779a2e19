import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FieldIssue, formatIssue } from '../../src/common/field-reader';
import { DatasetService } from '../../src/lake/dataset.service';
import { parseDefinitionsFile } from '../../src/registry/definitions-parser';
import { assembleDefinitions } from '../../src/registry/definitions-validator';
import { ObjectStore } from '../../src/storage/object-store';
import { S3ObjectStore } from '../../src/storage/s3.object-store';
import { testCatalog } from '../support/catalog';
import { query } from '../support/duckdb-files';
import { datasetService, objectStore } from '../support/lake';
import { startS3, TestS3 } from '../support/s3-server';

/** The issue's own YAML, once per mode (and two datasets whose rules concern the whole file). */
function repo(): string {
  const dataset = (name: string, mode: string, extra = '') => `
  - name: ${name}
    timestamp_field: ts
    expectations:
      on_violation: ${mode}
      columns:
        price:  { not_null: true, min: 0 }
        symbol: { not_null: true, regex: '^[A-Z]{1,6}$', allowed: [AAPL, MSFT, GOOG] }
      unique: [symbol, ts]
      rows: { min: 1 }${extra}`;
  return `datasets:${dataset('quotes_reject', 'reject')}${dataset('quotes_quarantine', 'quarantine')}${dataset('quotes_warn', 'warn')}${dataset('quotes_big', 'quarantine').replace('rows: { min: 1 }', 'rows: { min: 100 }')}${dataset('quotes_nulls', 'quarantine').replace('price:  { not_null: true, min: 0 }', 'price:  { max_null_rate: 0.1 }')}\n`;
}

const ROWS = [
  'symbol,ts,price',
  'AAPL,2026-11-01T10:00:00Z,190.5',
  'MSFT,2026-11-01T10:00:00Z,-1',
  ',2026-11-01T10:00:00Z,10',
  'TOOLONGX,2026-11-01T10:00:00Z,5',
  'AAPL,2026-11-01T10:00:00Z,191',
  'GOOG,2026-11-01T11:00:00Z,',
  'GOOG,2026-11-01T10:00:00Z,140',
  'MSFT,2026-11-01T11:00:00Z,420',
];

describe.each(['local', 's3'] as const)('dataset expectations at ingest (lake on %s)', (kind) => {
  let dir: string;
  let s3: TestS3 | undefined;
  let store: ObjectStore;
  let datasets: DatasetService;
  let close: () => Promise<void>;
  let file: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'fl-expect-'));
    if (kind === 's3') s3 = await startS3();
    store = objectStore(kind, dir, s3);
    const issues: FieldIssue[] = [];
    const definitions = assembleDefinitions('quotes', [parseDefinitionsFile('quotes.yaml', repo(), issues)]);
    expect(issues.map(formatIssue)).toEqual([]);
    ({ datasets, close } = datasetService(store, testCatalog(definitions), dir));
    file = join(dir, 'quotes.csv');
    writeFileSync(file, `${ROWS.join('\n')}\n`);
  });

  afterAll(async () => {
    await close();
    if (store instanceof S3ObjectStore) store.destroy();
    await s3?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const ingest = (dataset: string) => datasets.ingest(dataset, [{ path: file, format: 'csv', name: 'quotes.csv' }]);
  const failure = (dataset: string) => ingest(dataset).then(() => { throw new Error('the ingest was let in'); }, (error: { code: string; message: string; details: { rules: { rule: string; violations: number; examples: unknown[] }[] } }) => error);

  it('reject: fails naming each broken rule with its count and example rows, and leaves the lake as it was', async () => {
    const before = await store.list('');
    const error = await failure('quotes_reject');
    expect(error.code).toBe('EXPECTATION_FAILED');
    expect(error.details.rules.map((r) => [r.rule, r.violations])).toEqual([
      ['price.not_null', 1],
      ['price.min', 1],
      ['symbol.not_null', 1],
      ['symbol.regex', 1],
      ['symbol.allowed', 1],
      ['unique', 1],
    ]);
    expect(error.details.rules[1].examples).toEqual([{ symbol: 'MSFT', ts: '2026-11-01T10:00:00.000000Z', price: -1 }]);
    // The second AAPL at 10:00 is the duplicate; the first is kept.
    expect(error.details.rules[5].examples).toEqual([{ symbol: 'AAPL', ts: '2026-11-01T10:00:00.000000Z', price: 191 }]);
    expect(error.message).toMatch(/^quotes\.csv: 6 expectation\(s\) of dataset quotes_reject failed; nothing was committed:\n {2}price\.not_null \(price is not null\): 1 row, e\.g\. /);
    expect(error.message).toContain('symbol.regex (symbol matches "^[A-Z]{1,6}$"): 1 row, e.g. {"symbol":"TOOLONGX"');
    expect(await store.list('')).toEqual(before);
    expect(await datasets.snapshot('quotes_reject')).toBeNull();
  });

  it('quarantine: commits the rows that keep every rule, and sets the others apart beside the dataset with the rules they broke', async () => {
    const snapshot = await ingest('quotes_quarantine');
    expect(snapshot).toMatchObject({ rowCount: 3, added: { rows: 3 }, checks: { mode: 'quarantine', quarantined: [{ rows: 5, file: 'quotes.csv' }] } });
    const [local] = await datasets.localFiles(snapshot);
    expect(await query(`SELECT symbol, price FROM read_parquet('${local}')`)).toEqual([
      { symbol: 'AAPL', price: 190.5 },
      { symbol: 'GOOG', price: 140 },
      { symbol: 'MSFT', price: 420 },
    ]);
    const key = snapshot.checks!.quarantined[0].key;
    expect(key).toMatch(/^datasets\/quotes_quarantine\/quarantine\/[0-9a-f-]+\.parquet$/);
    const bad = await query(`SELECT symbol, price, __broken_rules FROM read_parquet('${await store.localPath(key)}')`);
    expect(bad).toEqual([
      { symbol: 'MSFT', price: -1, __broken_rules: 'price.min' },
      { symbol: null, price: 10, __broken_rules: 'symbol.not_null' },
      { symbol: 'TOOLONGX', price: 5, __broken_rules: 'symbol.regex,symbol.allowed' },
      { symbol: 'AAPL', price: 191, __broken_rules: 'unique' },
      { symbol: 'GOOG', price: null, __broken_rules: 'price.not_null' },
    ]);
  });

  it('quarantine still rejects a rule of the whole file (no row can be set apart for it)', async () => {
    const rows = await failure('quotes_big');
    expect([rows.code, rows.details.rules.map((r) => r.rule)]).toEqual(['EXPECTATION_FAILED', ['rows.min']]);
    expect(rows.message).toContain('rows.min (the file has at least 100 rows): 8 rows');
    const nulls = await failure('quotes_nulls');
    expect(nulls.details.rules.map((r) => [r.rule, r.violations])).toEqual([['price.max_null_rate', 1]]);
    expect(await store.list('datasets/quotes_big/')).toEqual([]);
  });

  it('warn: commits every row, and the snapshot counts what broke', async () => {
    const snapshot = await ingest('quotes_warn');
    expect(snapshot.rowCount).toBe(8);
    expect(snapshot.checks).toEqual({
      mode: 'warn',
      quarantined: [],
      violations: ['price.not_null', 'price.min', 'symbol.not_null', 'symbol.regex', 'symbol.allowed', 'unique'].map((rule) => ({ rule, file: 'quotes.csv', violations: 1 })),
    });
  });

  it('profiles what each snapshot added: values, nulls, min, max and a distinct estimate per column', async () => {
    const snapshot = (await datasets.snapshot('quotes_warn'))!;
    expect(snapshot.profile).toEqual([
      { name: 'symbol', type: 'VARCHAR', count: 7, nulls: 1, min: 'AAPL', max: 'TOOLONGX', distinct: 4 },
      { name: 'ts', type: 'TIMESTAMP', count: 8, nulls: 0, min: '2026-11-01T10:00:00.000000Z', max: '2026-11-01T11:00:00.000000Z', distinct: 2 },
      { name: 'price', type: 'DOUBLE', count: 7, nulls: 1, min: '-1.0', max: '420.0', distinct: 7 },
    ]);
  });
});
