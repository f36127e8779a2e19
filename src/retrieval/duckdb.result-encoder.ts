import { DuckDBConnection, DuckDBTimestampTZValue, DuckDBTimestampValue, DuckDBValue } from '@duckdb/node-api';
import * as arrow from 'apache-arrow';
import { Readable } from 'node:stream';
import { readOnceAndDelete, TempFiles } from '../common/temp-files';
import { NO_TIMESTAMP } from '../core/online-response';
import { formatTimestamp } from '../core/timestamp';
import { DuckDbDatabase } from '../duckdb/duckdb-database';
import { outputColumns } from '../duckdb/output-timestamps';
import { quoteLiteral, quoteName } from '../duckdb/sql-text';
import { ResultEncoder, ResultFormat, ResultLayout } from './result-encoder';
import { assertFileSize, watchFileSize } from '../common/work-control';
import type { QueryControl } from '../offline-store/offline-store';

/** ResultEncoder on an in-memory DuckDB reading the result file chunk by chunk. */
export class DuckDbResultEncoder extends ResultEncoder {
  constructor(
    private readonly db: DuckDbDatabase,
    private readonly temp: TempFiles,
  ) {
    super();
  }

  async encode(path: string, format: ResultFormat, layout: ResultLayout, control: QueryControl = {}): Promise<Readable> {
    if (format === 'parquet' && layout.hidden.length === 0) return readOnceAndDelete(path);
    if (format === 'json' || format === 'arrow') {
      const chunks: AsyncIterable<string | Uint8Array> = format === 'json' ? jsonColumns(this.db, path, layout) : arrowStream(this.db, path, layout);
      return Readable.from(withCleanup(chunks, () => this.temp.remove(path)));
    }
    const target = await this.temp.path(`.${format}`);
    const options = format === 'csv' ? 'FORMAT csv, HEADER true' : format === 'jsonl' ? 'FORMAT json' : 'FORMAT parquet, COMPRESSION zstd';
    const watch = control.maxResultBytes ? watchFileSize(target, control.maxResultBytes, 'limits.max_result_bytes', control.signal) : undefined;
    try {
      await this.db.withConnection(async (c) => {
        const sql = `SELECT ${visible(layout)} FROM read_parquet(${quoteLiteral(path)})`;
        // Text says UTC with a Z, whatever the file's timestamps are (a set saved before results were zoned, too).
        const columns = format === 'parquet' ? null : (await c.runAndReadAll(`DESCRIBE ${sql}`)).getRowObjectsJS().map((r) => ({ name: String(r.column_name), type: String(r.column_type) }));
        await c.run(`COPY (${columns ? `SELECT ${outputColumns(columns, 'text').select} FROM (${sql}) AS r` : sql}) TO ${quoteLiteral(target)} (${options})`);
      }, watch?.signal ?? control.signal);
      if (control.maxResultBytes) await assertFileSize(target, control.maxResultBytes, 'limits.max_result_bytes');
    } catch (error) {
      await this.temp.remove(target);
      throw error;
    } finally {
      watch?.dispose();
      await this.temp.remove(path);
    }
    return readOnceAndDelete(target);
  }
}

function visible(layout: ResultLayout): string {
  return layout.columns.map((c) => quoteName(c.name)).join(', ');
}

async function* withCleanup<T>(source: AsyncIterable<T>, cleanup: () => Promise<void>): AsyncIterable<T> {
  try {
    yield* source;
  } finally {
    await cleanup();
  }
}

/** Values of one query, a DuckDB chunk at a time. */
async function* chunks(c: DuckDBConnection, sql: string): AsyncIterable<DuckDBValue[][]> {
  const result = await c.stream(sql);
  for (;;) {
    const chunk = await result.fetchChunk();
    if (!chunk || chunk.rowCount === 0) return;
    yield chunk.getColumns();
  }
}

/**
 * Feast's column-major JSON, streamed: per column three passes over the file (values, statuses,
 * event timestamps), so memory holds one chunk, never a column.
 */
async function* jsonColumns(db: DuckDbDatabase, path: string, layout: ResultLayout): AsyncIterable<string> {
  const c = await db.connect();
  try {
    const file = `read_parquet(${quoteLiteral(path)})`;
    yield `{"metadata":{"feature_names":${JSON.stringify(layout.columns.map((col) => col.name))}},"results":[`;
    for (const [i, column] of layout.columns.entries()) {
      const name = quoteName(column.name);
      const ts = column.matchedAt ? quoteName(column.matchedAt) : 'event_timestamp';
      yield `${i > 0 ? ',' : ''}{"values":[`;
      yield* joined(chunks(c, `SELECT ${name} FROM ${file}`), ([values]) => values.map(jsonValue));
      yield '],"statuses":[';
      const statuses = column.matchedAt
        ? `SELECT CASE WHEN ${ts} IS NULL THEN 'NOT_FOUND' WHEN ${name} IS NULL THEN 'NULL_VALUE' ELSE 'PRESENT' END FROM ${file}`
        : `SELECT 'PRESENT' FROM ${file}`;
      yield* joined(chunks(c, statuses), ([values]) => values.map((s) => `"${s}"`));
      yield '],"event_timestamps":[';
      yield* joined(chunks(c, `SELECT ${ts} FROM ${file}`), ([values]) =>
        values.map((t) => `"${t === null ? NO_TIMESTAMP : formatTimestamp((t as DuckDBTimestampValue | DuckDBTimestampTZValue).micros)}"`),
      );
      yield ']}';
    }
    yield ']}';
  } finally {
    c.closeSync();
  }
}

async function* joined(source: AsyncIterable<DuckDBValue[][]>, encode: (columns: DuckDBValue[][]) => string[]): AsyncIterable<string> {
  let first = true;
  for await (const columns of source) {
    const text = encode(columns).join(',');
    if (!text) continue;
    yield first ? text : `,${text}`;
    first = false;
  }
}

/** A value read from a result file as JSON text: int64 exact, timestamps RFC 3339, non-finite floats as text. */
function jsonValue(value: DuckDBValue): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : `"${value}"`;
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'string') return JSON.stringify(value);
  if (value instanceof DuckDBTimestampValue || value instanceof DuckDBTimestampTZValue) return `"${formatTimestamp(value.micros)}"`;
  return JSON.stringify(String(value));
}

/** Arrow IPC stream format: the schema, then one record batch per DuckDB chunk. */
async function* arrowStream(db: DuckDbDatabase, path: string, layout: ResultLayout): AsyncIterable<Uint8Array> {
  const c = await db.connect();
  try {
    const sql = `SELECT ${visible(layout)} FROM read_parquet(${quoteLiteral(path)})`;
    const types = (await c.runAndReadAll(`DESCRIBE ${sql}`)).getRowObjectsJS().map((r) => String(r.column_type));
    const schema = new arrow.Schema(layout.columns.map((col, i) => new arrow.Field(col.name, arrowType(types[i]), true)));
    const writer = new arrow.RecordBatchStreamWriter();
    writer.reset(undefined, schema);
    const output = collect(writer);
    for await (const columns of chunks(c, sql)) {
      const vectors = columns.map((values, i) => vectorOf(values, schema.fields[i].type, types[i]));
      const data = arrow.makeData({ type: new arrow.Struct(schema.fields), length: columns[0].length, nullCount: 0, children: vectors.map((v) => v.data[0]) });
      writer.write(new arrow.RecordBatch(schema, data));
      yield* output.drain();
    }
    writer.finish();
    yield* await output.rest();
  } finally {
    c.closeSync();
  }
}

/** Buffers what the Arrow writer emits so the generator can pass it on as it goes. */
function collect(writer: arrow.RecordBatchStreamWriter) {
  const pending: Uint8Array[] = [];
  const reading = (async () => {
    for await (const piece of writer) pending.push(piece);
  })();
  return {
    drain: () => pending.splice(0),
    rest: async () => {
      await reading;
      return pending.splice(0);
    },
  };
}

function arrowType(duckType: string): arrow.DataType {
  switch (duckType) {
    case 'BIGINT':
      return new arrow.Int64();
    case 'INTEGER':
    case 'SMALLINT':
    case 'TINYINT':
      return new arrow.Int32();
    case 'DOUBLE':
      return new arrow.Float64();
    case 'FLOAT':
      return new arrow.Float32();
    case 'BOOLEAN':
      return new arrow.Bool();
    case 'TIMESTAMP':
    case 'TIMESTAMP WITH TIME ZONE':
      return new arrow.TimestampMicrosecond('UTC');
    default:
      return new arrow.Utf8();
  }
}

function vectorOf(values: DuckDBValue[], type: arrow.DataType, duckType: string): arrow.Vector {
  if (type instanceof arrow.TimestampMicrosecond) {
    const data = new BigInt64Array(values.length);
    const valid = new Uint8Array(Math.ceil(values.length / 8));
    let nulls = 0;
    values.forEach((v, i) => {
      if (v === null || v === undefined) nulls++;
      else {
        data[i] = (v as DuckDBTimestampValue | DuckDBTimestampTZValue).micros;
        valid[i >> 3] |= 1 << (i & 7);
      }
    });
    return arrow.makeVector(arrow.makeData({ type, length: values.length, nullCount: nulls, nullBitmap: valid, data }));
  }
  if (type instanceof arrow.Utf8 && duckType !== 'VARCHAR') return arrow.vectorFromArray(values.map((v) => (v === null ? null : String(v))), type);
  return arrow.vectorFromArray(values as unknown[], type);
}
