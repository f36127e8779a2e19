import { DuckDBConnection, DuckDBTimestampValue } from '@duckdb/node-api';
import { stat } from 'node:fs/promises';
import { InvalidFileError, limitExceeded, RowLimitExceededError, SchemaMismatchError, SizeLimitExceededError } from '../common/errors';
import { formatSize } from '../common/size';
import { isEngineResourceError } from '../duckdb/engine-errors';
import { DatasetDef } from '../core/definitions';
import { DuckDbDatabase } from '../duckdb/duckdb-database';
import { RunControl, watched } from '../duckdb/progress';
import { quoteLiteral, quoteName, quotePathList } from '../duckdb/sql-text';
import { ColumnSchema, IngestInput } from './dataset-manifest';
import { ConvertedFile, FileConverter, IngestLimits } from './file-converter';

const TIMESTAMP_SOURCES = /^(TIMESTAMP|TIMESTAMP_S|TIMESTAMP_MS|TIMESTAMP_NS|TIMESTAMP WITH TIME ZONE|DATE|VARCHAR)$/;

/**
 * FileConverter on an in-memory DuckDB of its own: streams the input into Parquet without
 * loading it into JS. A file's size and rows are checked before it is read (Parquet: the
 * decompressed size and row count its footer declares; text: its size), and a text file's rows
 * as they are read when they could be too many (the copy stops one row past the limit).
 */
export class DuckDbFileConverter extends FileConverter {
  constructor(
    private readonly db: DuckDbDatabase,
    private readonly limits: IngestLimits,
  ) {
    super();
  }

  async toParquet(input: IngestInput, dataset: DatasetDef, existing: ColumnSchema[] | null, outputPath: string, control: RunControl = {}): Promise<ConvertedFile> {
    const size = (await stat(input.path)).size;
    if (size === 0) throw new InvalidFileError(`${input.name}: is empty`);
    if (input.format !== 'parquet' && size > this.limits.maxBytes) throw this.tooLarge(input, size);
    return this.db.withConnection(async (connection) => {
      const source = readerSql(input);
      if (input.format === 'parquet') await this.checkDeclaredSize(connection, input);
      const columns = await describe(connection, `SELECT * FROM ${source}`, input);
      const select = selectList(columns, dataset, existing, input);
      // A Parquet file's rows were checked from its footer; a text file of N bytes holds at most N/2
      // rows. Only when the rows could still be too many does the copy stop one row past the limit
      // (a LIMIT keeps the copy in order, which costs it its parallelism: ~1.8x slower).
      const limit = input.format !== 'parquet' && size / 2 > this.limits.maxRows ? ` LIMIT ${this.limits.maxRows + 1}` : '';
      const copy = `COPY (SELECT ${select} FROM ${source}${limit}) TO ${quoteLiteral(outputPath)} (FORMAT parquet, COMPRESSION zstd)`;
      await watched(connection, control, () => this.run(connection, input, copy));
      const stats = await fileStats(connection, outputPath, dataset, input);
      if (stats.rows > this.limits.maxRows) throw this.tooManyRows(input);
      const schema = await describe(connection, `SELECT * FROM read_parquet(${quoteLiteral(outputPath)})`, input);
      return { path: outputPath, schema, bytes: (await stat(outputPath)).size, ...stats };
    }, control.signal);
  }

  async merge(paths: string[], dataset: DatasetDef, outputPath: string, control: RunControl = {}): Promise<ConvertedFile> {
    const input = { path: outputPath, format: 'parquet' as const, name: `compaction of ${paths.length} files` };
    return this.db.withConnection(async (connection) => {
      // file_row_number and the file's place in the list keep the rows in the order they were ingested.
      const copy = `COPY (SELECT * EXCLUDE (filename, file_row_number) FROM read_parquet(${quotePathList(paths)}, filename = true, file_row_number = true)
        ORDER BY list_position(${quotePathList(paths)}, filename), file_row_number) TO ${quoteLiteral(outputPath)} (FORMAT parquet, COMPRESSION zstd)`;
      await watched(connection, control, () => this.run(connection, input, copy));
      const stats = await fileStats(connection, outputPath, dataset, input);
      const schema = await describe(connection, `SELECT * FROM read_parquet(${quoteLiteral(outputPath)})`, input);
      return { path: outputPath, schema, bytes: (await stat(outputPath)).size, ...stats };
    }, control.signal);
  }

  /** A Parquet file says how large it is once decompressed: a small file can unpack to far more than the lake should take. */
  private async checkDeclaredSize(connection: DuckDBConnection, input: IngestInput): Promise<void> {
    let declared: bigint;
    let rows: bigint;
    try {
      const path = quoteLiteral(input.path);
      const reader = await connection.runAndReadAll(
        `SELECT (SELECT coalesce(sum(total_uncompressed_size), 0)::BIGINT FROM parquet_metadata(${path})), (SELECT coalesce(sum(num_rows), 0)::BIGINT FROM parquet_file_metadata(${path}))`,
      );
      [declared, rows] = reader.getRows()[0] as [bigint, bigint];
    } catch (error) {
      if (isEngineResourceError(error)) throw error;
      throw new InvalidFileError(`${input.name}: cannot be read as parquet: ${cleanMessage(error, input)}`);
    }
    if (declared > BigInt(this.limits.maxBytes)) throw this.tooLarge(input, Number(declared));
    if (rows > BigInt(this.limits.maxRows)) throw this.tooManyRows(input);
  }

  private tooManyRows(input: IngestInput) {
    return limitExceeded(RowLimitExceededError, `${input.name}: more than ${this.limits.maxRows.toLocaleString('en-US')} rows`, 'limits.max_ingest_rows', this.limits.maxRows);
  }

  private tooLarge(input: IngestInput, bytes: number) {
    return limitExceeded(SizeLimitExceededError, `${input.name}: ${formatSize(bytes)} of data (decompressed)`, 'limits.max_ingest_bytes', this.limits.maxBytes, formatSize(this.limits.maxBytes));
  }

  private async run(connection: DuckDBConnection, input: IngestInput, sql: string): Promise<void> {
    try {
      await connection.run(sql);
    } catch (error) {
      if (isEngineResourceError(error)) throw error; // memory, spill space, disk, an interrupt: named by the database
      const message = cleanMessage(error, input);
      if (/Conversion Error|Could not convert|Invalid Input Error: Failed to cast/i.test(message)) {
        throw new SchemaMismatchError(`${input.name}: values do not fit the dataset's column types: ${message}`);
      }
      throw new InvalidFileError(`${input.name}: cannot be read as ${input.format}: ${message}`);
    }
  }
}

function readerSql(input: IngestInput): string {
  const path = quoteLiteral(input.path);
  switch (input.format) {
    case 'parquet':
      return `read_parquet(${path})`;
    case 'csv':
      return `read_csv(${path}, header = true, auto_detect = true)`;
    case 'jsonl':
      return `read_json(${path}, format = 'newline_delimited')`;
  }
}

async function describe(connection: DuckDBConnection, query: string, input: IngestInput): Promise<ColumnSchema[]> {
  try {
    const reader = await connection.runAndReadAll(`DESCRIBE ${query}`);
    return reader.getRowObjectsJS().map((row) => ({ name: String(row.column_name), type: String(row.column_type) }));
  } catch (error) {
    if (isEngineResourceError(error)) throw error;
    throw new InvalidFileError(`${input.name}: cannot be read as ${input.format}: ${cleanMessage(error, input)}`);
  }
}

/** The SELECT that normalises the file: timestamps to UTC TIMESTAMP, columns cast to the existing schema. */
function selectList(columns: ColumnSchema[], dataset: DatasetDef, existing: ColumnSchema[] | null, input: IngestInput): string {
  if (columns.length === 0) throw new InvalidFileError(`${input.name}: has no columns`);
  const timestampFields = [dataset.timestampField, dataset.createdTimestampField].filter((f): f is string => !!f);
  for (const field of timestampFields) {
    const column = columns.find((c) => c.name === field);
    if (!column) {
      throw new SchemaMismatchError(`${input.name}: has no column ${field}, which dataset ${dataset.name} names as its timestamp`, {
        column: field,
      });
    }
    if (!TIMESTAMP_SOURCES.test(column.type)) {
      throw new SchemaMismatchError(`${input.name}: column ${field} is ${column.type}; a timestamp, date or ISO-8601 text is needed`, {
        column: field,
      });
    }
  }
  const target = existing ?? columns.map((c) => ({ name: c.name, type: timestampFields.includes(c.name) ? 'TIMESTAMP' : c.type }));
  if (existing) assertSameColumns(columns, existing, input);
  return target.map((column) => castColumn(column, columns.find((c) => c.name === column.name)!.type)).join(', ');
}

function castColumn(target: ColumnSchema, sourceType: string): string {
  const name = quoteName(target.name);
  if (target.type === sourceType) return name;
  // Text timestamps may carry an offset; through TIMESTAMPTZ (session zone UTC) they land in UTC.
  const from = sourceType === 'VARCHAR' && target.type === 'TIMESTAMP' ? `CAST(${name} AS TIMESTAMPTZ)` : name;
  return `CAST(${from} AS ${target.type}) AS ${name}`;
}

function assertSameColumns(columns: ColumnSchema[], existing: ColumnSchema[], input: IngestInput): void {
  const names = new Set(columns.map((c) => c.name));
  const expected = new Set(existing.map((c) => c.name));
  const missing = [...expected].filter((n) => !names.has(n));
  const extra = [...names].filter((n) => !expected.has(n));
  if (missing.length || extra.length) {
    const parts = [missing.length ? `missing ${missing.join(', ')}` : '', extra.length ? `unexpected ${extra.join(', ')}` : ''];
    throw new SchemaMismatchError(`${input.name}: columns differ from the dataset's schema: ${parts.filter(Boolean).join('; ')}`, {
      missing,
      unexpected: extra,
    });
  }
}

async function fileStats(connection: DuckDBConnection, path: string, dataset: DatasetDef, input: IngestInput) {
  const ts = dataset.timestampField ? quoteName(dataset.timestampField) : 'NULL::TIMESTAMP';
  const reader = await connection.runAndReadAll(
    `SELECT count(*) AS n, min(${ts}) AS lo, max(${ts}) AS hi, count(*) FILTER (WHERE ${ts} IS NULL) AS nulls
     FROM read_parquet(${quoteLiteral(path)})`,
  );
  const [n, lo, hi, nulls] = reader.getRows()[0] as [bigint, DuckDBTimestampValue | null, DuckDBTimestampValue | null, bigint];
  if (n === 0n) throw new InvalidFileError(`${input.name}: holds no rows`);
  if (dataset.timestampField && nulls > 0n) {
    throw new SchemaMismatchError(`${input.name}: ${nulls} rows have no ${dataset.timestampField}; every row needs an event time`, {
      column: dataset.timestampField,
    });
  }
  return { rows: Number(n), minTimestamp: lo?.micros ?? null, maxTimestamp: hi?.micros ?? null };
}

/** DuckDB messages name our temporary paths; users should see the name of the file they sent. */
function cleanMessage(error: unknown, input: IngestInput): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split(input.path).join(input.name).split('\n')[0];
}
