import { DuckDBConnection } from '@duckdb/node-api';
import { rm } from 'node:fs/promises';
import { assertFileSize, watchFileSize } from '../common/work-control';
import { ResolvedView } from '../core/catalog';
import { Micros } from '../core/timestamp';
import { DuckDbDatabase } from '../duckdb/duckdb-database';
import { fromDuckDb, micros } from '../duckdb/values';
import { pendingBatches, replaceRows, scopeForIncremental } from './duckdb-materialize';
import { historicalSql, prepareViews, writeResult } from './duckdb-retrieval';
import { loadSpine } from './duckdb-spine';
import { quoteLiteral, quoteName } from '../duckdb/sql-text';
import { ROW_ID, SPINE } from './point-in-time-sql';
import { assertMaterialized, createSchemas, readViewState, writeOnlineEpoch } from './duckdb-views';
import { markAllPendingSql, tableName } from './offline-sql';
import { EVENT_TIMESTAMP } from '../core/definitions';
import { quoteIdent } from '../core/identifiers';
import {
  HistoricalColumns,
  HistoricalQuery,
  IncrementalMode,
  IncrementalSource,
  OfflineRun,
  OfflineStore,
  OutputFormat,
  PendingBatch,
  QueryControl,
  ResultFile,
  RunControl,
  SourceData,
  ViewState,
} from './offline-store';

/** The offline store in one DuckDB file: a table per feature view, plus metadata and pending tables. */
export class DuckDbOfflineStore extends OfflineStore {
  private schemaReady?: Promise<void>;
  private schemaFor = -1;

  constructor(private readonly db: DuckDbDatabase) {
    super();
  }

  async materializeWindow(view: ResolvedView, source: SourceData, start: Micros, end: Micros, control?: RunControl): Promise<OfflineRun> {
    const run = await this.session((c) => replaceRows(c, { view, source, scope: { kind: 'window', start, end } }, control));
    this.db.assertFileCurrent(`materializing ${view.def.name}`);
    return run;
  }

  async materializeIncremental(view: ResolvedView, source: IncrementalSource, end: Micros, mode: IncrementalMode, control?: RunControl): Promise<OfflineRun> {
    const run = await this.session(async (c) => {
      const previous = await readViewState(c, view);
      const { scope, affectedFromNewFiles, watermark } = scopeForIncremental(source, previous, end, mode === 'full');
      return replaceRows(c, { view, source, scope, incremental: { source, watermark, affectedFromNewFiles } }, control);
    });
    this.db.assertFileCurrent(`materializing ${view.def.name}`);
    return run;
  }

  viewState(view: ResolvedView): Promise<ViewState> {
    return this.session((c) => readViewState(c, view));
  }

  async markAllPending(view: ResolvedView): Promise<void> {
    await this.session(async (c) => {
      await assertMaterialized(c, [view]);
      await c.run(markAllPendingSql(view));
    });
    this.db.assertFileCurrent(`marking ${view.def.name} pending`);
  }

  async recordOnlineEpoch(view: ResolvedView, epoch: number): Promise<void> {
    await this.session((c) => writeOnlineEpoch(c, view, epoch));
    this.db.assertFileCurrent(`recording ${view.def.name}'s online epoch`);
  }

  async *pendingOnline(view: ResolvedView, batchSize: number): AsyncIterable<PendingBatch> {
    await this.session(async () => undefined); // schemas in place
    const state = await this.viewState(view);
    if (state.pendingOnline === 0) return;
    // Streamed across yields, so not in a withConnection: its errors are named the same way here.
    try {
      for await (const batch of pendingBatches(() => this.db.connect(), view, batchSize)) {
        yield { records: batch.records, ack: () => batch.ack().catch((error: unknown) => Promise.reject(this.db.describeError(error))) };
      }
    } catch (error) {
      throw this.db.describeError(error);
    }
  }

  async historicalColumns(query: HistoricalQuery): Promise<HistoricalColumns> {
    if (query.spine.kind !== 'rows') throw new Error('historicalColumns takes in-memory entity rows; use historicalToFile for the rest');
    const rows = query.spine.rows;
    return this.session(async (c) => {
      const sql = await historicalSql(c, query, true);
      const columns = (await c.runAndReadAll(sql)).getColumns();
      const first = rows.columns.length + 1;
      const views = query.selection.views;
      return {
        entityColumns: rows.columns.map((col) => ({ key: col.key, values: col.values })),
        eventTimestamps: rows.eventTimestamps as Micros[],
        features: query.selection.columns.map((column, i) => {
          const viewIndex = views.findIndex((v) => v.view.def.name === column.viewName);
          return {
            column,
            values: columns[first + i].map((raw) => fromDuckDb(raw, column.feature.type)),
            matchedAt: columns[first + query.selection.columns.length + viewIndex].map(micros),
          };
        }),
      };
    });
  }

  async exportSpine(query: HistoricalQuery, path: string, control: QueryControl = {}): Promise<number> {
    return this.writing(path, control, (signal) =>
      this.session(async (c) => {
        // Only a window spine reads the views; recomputing them here (a saved set's pinned snapshots) would be wasted work.
        const views = query.spine.kind === 'range' ? await prepareViews(c, query) : [];
        const columns = await loadSpine(c, query.spine, query.selection.joinKeys, views, query.maxEntityRows);
        const result = await c.run(
          `COPY (SELECT ${columns.map(quoteName).join(', ')} FROM ${SPINE} ORDER BY ${ROW_ID}) TO ${quoteLiteral(path)} (FORMAT parquet, COMPRESSION zstd)`,
        );
        return result.rowsChanged;
      }, signal),
    );
  }

  async historicalToFile(query: HistoricalQuery, format: OutputFormat, path: string, options: QueryControl & { withMatchTimestamps?: boolean } = {}): Promise<ResultFile> {
    return this.writing(path, options, (signal) =>
      this.session(async (c) => writeResult(c, await historicalSql(c, query, options.withMatchTimestamps ?? false), format, path), signal),
    );
  }

  async viewRowsToFile(view: ResolvedView, window: { start?: Micros; end?: Micros }, path: string, control: QueryControl = {}): Promise<number> {
    return this.writing(path, control, (signal) => this.viewRows(view, window, path, signal));
  }

  private async viewRows(view: ResolvedView, window: { start?: Micros; end?: Micros }, path: string, signal?: AbortSignal): Promise<number> {
    return this.session(async (c) => {
      await assertMaterialized(c, [view]);
      // COPY takes no bound parameters; the bounds are our own integers, not text.
      const bounds = [
        ...(window.start === undefined ? [] : [`${EVENT_TIMESTAMP} >= make_timestamp(${window.start.toString()}::BIGINT)`]),
        ...(window.end === undefined ? [] : [`${EVENT_TIMESTAMP} <= make_timestamp(${window.end.toString()}::BIGINT)`]),
      ];
      const columns = [...view.joinKeys.map((k) => quoteIdent(k.name)), EVENT_TIMESTAMP, ...view.def.features.map((f) => quoteIdent(f.name))];
      const where = bounds.length ? `WHERE ${bounds.join(' AND ')}` : '';
      const result = await c.run(`COPY (SELECT ${columns.join(', ')} FROM ${tableName(view)} ${where} ORDER BY ${EVENT_TIMESTAMP}) TO ${quoteLiteral(path)} (FORMAT parquet, COMPRESSION zstd)`);
      return result.rowsChanged;
    }, signal);
  }

  /**
   * Writes a result file under the query's control: the file is watched while it grows (past
   * `maxResultBytes` the work stops) and removed when the work fails or is stopped.
   */
  private async writing<T>(path: string, control: QueryControl, work: (signal?: AbortSignal) => Promise<T>): Promise<T> {
    const watch = control.maxResultBytes ? watchFileSize(path, control.maxResultBytes, 'limits.max_result_bytes', control.signal) : undefined;
    try {
      const result = await work(watch?.signal ?? control.signal);
      if (control.maxResultBytes) await assertFileSize(path, control.maxResultBytes, 'limits.max_result_bytes');
      return result;
    } catch (error) {
      await rm(path, { force: true });
      throw error;
    } finally {
      watch?.dispose();
    }
  }

  /** A connection with the schemas in place (created once per file), stopped by `signal`. */
  private async session<T>(work: (c: DuckDBConnection) => Promise<T>, signal?: AbortSignal): Promise<T> {
    return this.db.withConnection(async (c) => {
      if (this.schemaFor !== this.db.generation) this.schemaReady = undefined;
      this.schemaFor = this.db.generation;
      this.schemaReady ??= createSchemas(c).catch((error: unknown) => {
        this.schemaReady = undefined;
        throw error;
      });
      await this.schemaReady;
      return work(c);
    }, signal);
  }
}
