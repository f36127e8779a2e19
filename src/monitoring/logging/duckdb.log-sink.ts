import { TempFiles } from '../../common/temp-files';
import { quoteIdent } from '../../core/identifiers';
import { duckDbType } from '../../core/value-types';
import { DuckDbDatabase } from '../../duckdb/duckdb-database';
import { quoteLiteral, quoteName } from '../../duckdb/sql-text';
import { duckDbTypeOf, toDuckDb } from '../../duckdb/values';
import { DatasetService } from '../../lake/dataset.service';
import { LogRow, LogShape, REQUEST_ID, REQUEST_TIME } from './feature-log';
import { LogSink } from './log-sink';

/** Writes logged rows as typed Parquet (DuckDB appender) and ingests it as a snapshot of the log dataset. */
export class DuckDbLogSink extends LogSink {
  constructor(
    private readonly db: DuckDbDatabase,
    private readonly datasets: DatasetService,
    private readonly temp: TempFiles,
  ) {
    super();
  }

  async append(shape: LogShape, rows: LogRow[]): Promise<void> {
    const path = await this.temp.path('.parquet');
    try {
      await this.db.withConnection(async (c) => {
        const columns = [
          `${REQUEST_ID} VARCHAR`,
          `${REQUEST_TIME} TIMESTAMP`,
          ...shape.keys.map((k) => `${quoteIdent(k.name)} ${duckDbType(k.type)}`),
          ...shape.features.flatMap((f) => [`${quoteName(f.column)} ${duckDbType(f.type)}`, `${quoteName(`${f.column}__status`)} VARCHAR`]),
        ];
        await c.run(`CREATE OR REPLACE TEMP TABLE log_rows (${columns.join(', ')})`);
        const appender = await c.createAppender('log_rows', 'main', 'temp');
        const timestamp = duckDbTypeOf('timestamp');
        for (const row of rows) {
          appender.appendVarchar(row.requestId);
          appender.appendValue(toDuckDb(row.requestTime, 'timestamp'), timestamp);
          shape.keys.forEach((k, i) => appender.appendValue(toDuckDb(row.keys[i], k.type), duckDbTypeOf(k.type)));
          shape.features.forEach((f, i) => {
            appender.appendValue(toDuckDb(row.values[i], f.type), duckDbTypeOf(f.type));
            appender.appendVarchar(row.statuses[i]);
          });
          appender.endRow();
        }
        appender.closeSync();
        await c.run(`COPY temp.log_rows TO ${quoteLiteral(path)} (FORMAT parquet, COMPRESSION zstd)`);
      });
      await this.datasets.ingestAs(shape.dataset, [{ path, format: 'parquet', name: `${shape.service} feature log` }]);
    } finally {
      await this.temp.remove(path);
    }
  }
}
