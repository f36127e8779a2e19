import { rm } from 'node:fs/promises';
import { assertFileSize, watchFileSize } from '../common/work-control';
import { ResolvedView } from '../core/catalog';
import { EVENT_TIMESTAMP } from '../core/definitions';
import { quoteIdent } from '../core/identifiers';
import { Micros } from '../core/timestamp';
import { DuckDbDatabase } from '../duckdb/duckdb-database';
import { quoteLiteral, quoteName } from '../duckdb/sql-text';
import { fromDuckDb, micros } from '../duckdb/values';
import { ObjectStore } from '../storage/object-store';
import { historicalSql, mergeResults, prepareViews, ViewRelation, writeResult } from './duckdb-retrieval';
import { partBuckets } from './join-parts';
import { loadSpine } from './duckdb-spine';
import { HistoricalColumns, HistoricalQuery, JoinPart, OfflineStore, OutputFormat, QueryControl, ResultFile } from './offline-store';
import { ROW_ID, SPINE } from './point-in-time-sql';
import { readShape } from './view-manifest';
import { ViewOutputs } from './view-outputs';
import { mergedRowsSql } from './view-sql';

/**
 * The read side of the lake offline store: point-in-time joins and window exports over each
 * view's files (merge-on-read: view-sql.ts), on this process's DuckDB. Lake objects are read
 * through the object store's local paths (a cache for S3), so any process reads the same rows.
 */
export abstract class LakeReads extends OfflineStore {
  constructor(
    protected readonly db: DuckDbDatabase,
    protected readonly store: ObjectStore,
    protected readonly outputs: ViewOutputs,
  ) {
    super();
  }

  async historicalColumns(query: HistoricalQuery): Promise<HistoricalColumns> {
    if (query.spine.kind !== 'rows') throw new Error('historicalColumns takes in-memory entity rows; use historicalToFile for the rest');
    const rows = query.spine.rows;
    const relations = await this.relations(query);
    return this.db.withConnection(async (c) => {
      const sql = await historicalSql(c, query, true, relations);
      const columns = (await c.runAndReadAll(sql)).getColumns();
      const first = rows.columns.length + (rows.extras?.length ?? 0) + 1;
      const views = query.selection.views;
      return {
        entityColumns: rows.columns.map((col) => ({ key: col.key, values: col.values })),
        extraColumns: rows.extras ?? [],
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
    // Only a window spine reads the views; recomputing pinned snapshots here would be wasted work.
    const relations = query.spine.kind === 'range' ? await this.relations(query) : new Map<string, ViewRelation>();
    return this.writing(path, control, (signal) =>
      this.db.withConnection(async (c) => {
        const views = query.spine.kind === 'range' ? await prepareViews(c, query, relations) : [];
        const columns = await loadSpine(c, query.spine, query.selection.joinKeys, views, query.maxEntityRows);
        const result = await c.run(`COPY (SELECT ${columns.map(quoteName).join(', ')} FROM ${SPINE} ORDER BY ${ROW_ID}) TO ${quoteLiteral(path)} (FORMAT parquet, COMPRESSION zstd)`);
        return result.rowsChanged;
      }, signal),
    );
  }

  async historicalToFile(query: HistoricalQuery, format: OutputFormat, path: string, options: QueryControl & { withMatchTimestamps?: boolean } = {}): Promise<ResultFile> {
    const relations = await this.relations(query);
    return this.writing(path, options, (signal) =>
      this.db.withConnection(async (c) => writeResult(c, await historicalSql(c, query, options.withMatchTimestamps ?? false, relations), format, path, query.naiveTimestamps ? 'naive' : 'utc'), signal),
    );
  }

  async viewRowsToFile(view: ResolvedView, window: { start?: Micros; end?: Micros }, path: string, control: QueryControl = {}): Promise<number> {
    const relation = await this.relation(view);
    return this.writing(path, control, (signal) =>
      this.db.withConnection(async (c) => {
        // COPY takes no bound parameters; the bounds are our own integers, not text.
        const bounds = [
          ...(window.start === undefined ? [] : [`${EVENT_TIMESTAMP} >= make_timestamp(${window.start.toString()}::BIGINT)`]),
          ...(window.end === undefined ? [] : [`${EVENT_TIMESTAMP} <= make_timestamp(${window.end.toString()}::BIGINT)`]),
        ];
        const columns = [...view.joinKeys.map((k) => quoteIdent(k.name)), EVENT_TIMESTAMP, ...view.def.features.map((f) => quoteIdent(f.name))];
        const where = bounds.length ? `WHERE ${bounds.join(' AND ')}` : '';
        const result = await c.run(`COPY (SELECT ${columns.join(', ')} FROM (${relation.sql}) v ${where} ORDER BY ${EVENT_TIMESTAMP}) TO ${quoteLiteral(path)} (FORMAT parquet, COMPRESSION zstd)`);
        return result.rowsChanged;
      }, signal),
    );
  }

  async mergeParts(parts: string[], path: string, control: QueryControl = {}): Promise<ResultFile> {
    return this.writing(path, control, (signal) => this.db.withConnection((c) => mergeResults(c, parts, path), signal));
  }

  /**
   * A view's current rows as SQL over its lake files (of a part's buckets only, where the part
   * allows: join-parts.ts); FEATURE_VIEW_NOT_MATERIALIZED when it has none.
   */
  protected async relation(view: ResolvedView, part?: JoinPart): Promise<ViewRelation> {
    const manifest = await this.outputs.required(view);
    const only = part ? partBuckets(view.joinKeys, manifest.bucketStates.length, part) : null;
    const states = manifest.bucketStates.map((state, bucket) => ({ bucket, state })).filter(({ bucket }) => only === null || only.includes(bucket));
    const shape = readShape(manifest.bucketStates);
    return { sql: mergedRowsSql(view, await this.outputs.mergeInput(states)), dedup: !shape.unique };
  }

  /** The relations of the query's views (read from their offline rows; a reproducible build brings its own). */
  private async relations(query: HistoricalQuery): Promise<Map<string, ViewRelation>> {
    const relations = new Map<string, ViewRelation>();
    if ((query.features ?? { kind: 'offline' }).kind !== 'offline') return relations;
    for (const { view } of query.selection.views) relations.set(view.def.name, await this.relation(view, query.part));
    return relations;
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
}
