import { DuckDBConnection, DuckDBDataChunk, DuckDBType, DuckDBValue, BIGINT, VARCHAR } from '@duckdb/node-api';
import { TempFiles } from '../../common/temp-files';
import { duckDbType, ValueType } from '../../core/value-types';
import { DuckDbDatabase } from '../../duckdb/duckdb-database';
import { quoteLiteral, quoteName } from '../../duckdb/sql-text';
import { duckDbTypeOf } from '../../duckdb/values';
import { DatasetService } from '../../lake/dataset.service';
import { LogShape, REQUEST_ID, REQUEST_TIME } from './feature-log';
import { featureValues, LogChunk, VIEW_STATUSES } from './log-buffer';
import { LogSink } from './log-sink';

type ColumnKind = ValueType | 'text';

/**
 * Writes logged requests as typed Parquet and ingests the file as one snapshot of the log
 * dataset. Rows reach DuckDB as column-major data chunks — typed values copied into DuckDB's
 * vectors, no text formatting or parsing — a chunk at a time with a yield in between, so a flush
 * costs serving little; Parquet encoding and the lake upload run in DuckDB's threads and in I/O.
 */
export class DuckDbLogSink extends LogSink {
  constructor(
    private readonly db: DuckDbDatabase,
    private readonly datasets: DatasetService,
    private readonly temp: TempFiles,
  ) {
    super();
  }

  async append(shape: LogShape, chunks: LogChunk[]): Promise<void> {
    const parquet = await this.temp.path('.parquet');
    try {
      await this.db.withConnection(async (c) => {
        const columns = columnsOf(shape);
        await c.run(`CREATE OR REPLACE TEMP TABLE log_rows (${columns.map((col, i) => `c${i} ${rawType(col.kind)}`).join(', ')})`);
        await appendChunks(c, columns, chunks);
        const select = columns.map((col, i) => `${col.kind === 'timestamp' ? `make_timestamp(c${i})` : `c${i}`} AS ${quoteName(col.name)}`);
        await c.run(`COPY (SELECT ${select.join(', ')} FROM temp.log_rows) TO ${quoteLiteral(parquet)} (FORMAT parquet, COMPRESSION zstd)`);
        await c.run('DROP TABLE temp.log_rows');
      });
      await this.datasets.ingestAs(shape.dataset, [{ path: parquet, format: 'parquet', name: `${shape.service} feature log` }], { allowDuplicate: true }); // every flush is new rows, whatever its bytes
    } finally {
      await this.temp.remove(parquet);
    }
  }
}

/** The log's columns in file order, as the dataset names them. */
function columnsOf(shape: LogShape): { name: string; kind: ColumnKind }[] {
  return [
    { name: REQUEST_ID, kind: 'text' },
    { name: REQUEST_TIME, kind: 'timestamp' },
    ...shape.keys.map((k) => ({ name: k.name, kind: k.type })),
    ...shape.features.map((f) => ({ name: f.column, kind: f.type })),
    ...shape.views.map((v) => ({ name: v.statusColumn, kind: 'text' as const })),
  ];
}

/** Timestamps travel as microseconds (BIGINT) and become TIMESTAMP in the final SELECT. */
function rawType(kind: ColumnKind): string {
  if (kind === 'text') return 'VARCHAR';
  return kind === 'timestamp' ? 'BIGINT' : duckDbType(kind);
}

function chunkType(kind: ColumnKind): DuckDBType {
  if (kind === 'text') return VARCHAR;
  return kind === 'timestamp' ? BIGINT : duckDbTypeOf(kind);
}

/** Each buffered chunk becomes one DuckDB data chunk; the event loop gets a turn between chunks. */
async function appendChunks(c: DuckDBConnection, columns: { kind: ColumnKind }[], chunks: LogChunk[]): Promise<void> {
  const appender = await c.createAppender('log_rows', 'main', 'temp');
  const types = columns.map((col) => chunkType(col.kind));
  for (const chunk of chunks) {
    const data = DuckDBDataChunk.create(types, chunk.rows);
    data.setColumns(chunkColumns(chunk));
    appender.appendDataChunk(data);
    await new Promise((resolve) => setImmediate(resolve));
  }
  appender.closeSync();
}

/** A chunk's columns as DuckDB values, in `columnsOf` order. */
function chunkColumns(chunk: LogChunk): DuckDBValue[][] {
  const rows = chunk.rows;
  return [
    chunk.requestIds.slice(0, rows),
    Array.from(chunk.requestTimes.subarray(0, rows), (micros) => BigInt(micros)),
    ...chunk.keys.map((values) => values.slice(0, rows)),
    ...chunk.features.map((_, f) => featureValues(chunk, f)),
    ...chunk.statuses.map((codes) => Array.from(codes.subarray(0, rows), (code) => VIEW_STATUSES[code])),
  ];
}
