import { DuckDBConnection, DuckDBValue } from '@duckdb/node-api';
import { DomainError, MaterializationFailedError } from '../common/errors';
import { isEngineResourceError } from '../duckdb/engine-errors';
import { ResolvedView } from '../core/catalog';
import { encodeEntityKey } from '../core/entity-key';
import { quoteIdent } from '../core/identifiers';
import { OnlineRecord } from '../core/online-record';
import { Micros } from '../core/timestamp';
import { stoppedError, watched } from '../duckdb/progress';
import { quotePathList } from '../duckdb/sql-text';
import { fromDuckDb, micros, timestampParam } from '../duckdb/values';
import { checkViewColumns, ensureTables, firstLine, forgetUniqueness, writeIncrementalState } from './duckdb-views';
import {
  affectedKeysSql,
  deleteScopeSql,
  insertScopeSql,
  markPendingSql,
  pendingCountSql,
  pendingLatestSql,
  pendingTableName,
  RecomputeScope,
  keyList,
  scopeParams,
  tableName,
} from './offline-sql';
import { IncrementalSource, OfflineRun, PendingBatch, RunControl, SourceData } from './offline-store';

/** Pending entities read per DuckDB query (see pendingLatestSql). */
const ENTITIES_PER_PARTITION = 2_000_000;

export interface ReplaceRequest {
  view: ResolvedView;
  source: SourceData;
  scope: RecomputeScope;
  /** For incremental runs: the files not consumed yet (their entities are recomputed) and what to record. */
  incremental?: { source: IncrementalSource; watermark: Micros; affectedFromNewFiles: boolean };
}

/**
 * Replaces the stored rows in `scope` with rows recomputed from the source, and marks the
 * entities whose rows may have changed (before or after) as pending online — all in one
 * transaction. A cancelled or failed run rolls back and changes nothing.
 */
export async function replaceRows(c: DuckDBConnection, request: ReplaceRequest, control: RunControl = {}): Promise<OfflineRun> {
  const { view, scope } = request;
  await exposeDataset(c, request.source.dataset.name, request.source.files);
  const hasCreated = await checkViewColumns(c, view);
  if (scope.kind === 'entities') {
    if (request.incremental?.affectedFromNewFiles) {
      await exposeDataset(c, request.source.dataset.name, request.incremental.source.newFiles);
      await c.run(affectedKeysSql(view));
      await exposeDataset(c, request.source.dataset.name, request.source.files);
    } else {
      await c.run(`CREATE OR REPLACE TEMP TABLE affected AS SELECT ${keyList(view.joinKeys)} FROM ${tableName(view)} WHERE false`);
    }
  }
  const params = scopeParams(scope).map(timestampParam);
  await c.run('BEGIN TRANSACTION');
  try {
    await ensureTables(c, view);
    if (view.def.online) await c.run(markPendingSql(view, scope), params);
    await c.run(deleteScopeSql(view, scope), params);
    const inserted = await watched(c, control, () => c.run(insertScopeSql(view, hasCreated, scope), params));
    await forgetUniqueness(c, view);
    if (view.def.online) await c.run(markPendingSql(view, scope), params);
    if (request.incremental) await writeIncrementalState(c, view, request.incremental.source.snapshotId, request.incremental.watermark);
    await c.run('COMMIT');
    return { rowsWritten: inserted.rowsChanged };
  } catch (error) {
    await c.run('ROLLBACK').catch(() => undefined);
    if (error instanceof DomainError) throw error;
    if (control.signal?.aborted) throw stoppedError(control.signal);
    if (isEngineResourceError(error)) throw error; // named by the database (memory, spill, disk)
    throw new MaterializationFailedError(`feature view ${view.def.name}: ${firstLine(error)}`, { view: view.def.name });
  }
}

/** The dataset's files as a temporary view named after the dataset, which the view's SQL reads. */
export async function exposeDataset(c: DuckDBConnection, dataset: string, files: string[]): Promise<void> {
  await c.run(`CREATE OR REPLACE TEMP VIEW ${quoteIdent(dataset)} AS SELECT * FROM read_parquet(${quotePathList(files)})`);
}

/**
 * Streams the newest row of every entity pending at the start, in batches. The entities stay
 * pending until the final batch is acknowledged (one range delete; the stream has no order, so
 * nothing earlier can be cleared safely). A run that stops half-way leaves them all pending:
 * the next run writes them again, which the online store's newer-wins rule makes harmless.
 */
export async function* pendingBatches(open: () => Promise<DuckDBConnection>, view: ResolvedView, batchSize: number): AsyncIterable<PendingBatch> {
  const reader = await open();
  try {
    const max = (await reader.runAndReadAll(`SELECT max(__seq) FROM ${pendingTableName(view)}`)).getRows()[0][0];
    if (max === null) return;
    const entities = Number((await reader.runAndReadAll(pendingCountSql(view))).getRows()[0][0]);
    const partitions = Math.max(1, Math.ceil(entities / ENTITIES_PER_PARTITION));
    const noAck = async () => undefined;
    let batch: OnlineRecord[] = [];
    for (let partition = 0; partition < partitions; partition++) {
      const result = await reader.stream(pendingLatestSql(view), [max as DuckDBValue, BigInt(partitions), BigInt(partition)]);
      for (;;) {
        const chunk = await result.fetchChunk();
        if (!chunk || chunk.rowCount === 0) break;
        const columns = chunk.getColumns();
        for (let row = 0; row < chunk.rowCount; row++) {
          batch.push(toRecord(view, columns, row));
          if (batch.length >= batchSize) {
            yield { records: batch, ack: noAck };
            batch = [];
          }
        }
      }
    }
    const ackAll = async () => {
      const writer = await open();
      try {
        await writer.run(`DELETE FROM ${pendingTableName(view)} WHERE __seq <= $1`, [max as DuckDBValue]);
      } finally {
        writer.closeSync();
      }
    };
    yield { records: batch, ack: ackAll };
  } finally {
    reader.closeSync();
  }
}

function toRecord(view: ResolvedView, columns: DuckDBValue[][], row: number): OnlineRecord {
  const keyCount = view.joinKeys.length;
  const keyValues = view.joinKeys.map((k, i) => fromDuckDb(columns[i][row], k.type));
  return {
    entityKey: encodeEntityKey(keyValues) as string,
    eventTimestamp: micros(columns[keyCount][row]) as Micros,
    createdTimestamp: micros(columns[keyCount + 1][row]),
    values: view.def.features.map((f, i) => fromDuckDb(columns[keyCount + 2 + i][row], f.type)),
  };
}

export function scopeForIncremental(source: IncrementalSource, previous: { consumedSnapshot: number | null; watermark: Micros | null }, end: Micros, full: boolean) {
  const watermark = previous.watermark !== null && previous.watermark > end ? previous.watermark : end;
  if (full || previous.consumedSnapshot === null || previous.watermark === null) {
    return { scope: { kind: 'all', end: watermark } as RecomputeScope, affectedFromNewFiles: false, watermark };
  }
  return {
    scope: { kind: 'entities', end: watermark, watermark: previous.watermark } as RecomputeScope,
    affectedFromNewFiles: source.newFiles.length > 0,
    watermark,
  };
}
