import { EntityRows } from '../../core/entity-rows';
import { OnlineRecord } from '../../core/online-record';
import { isWithinTtl } from '../../core/online-status';
import { Micros } from '../../core/timestamp';
import { Value } from '../../core/value-types';
import { LogShape } from './feature-log';

/** Rows per chunk: DuckDB's vector size, so a chunk becomes one data chunk when flushed. */
export const LOG_CHUNK_ROWS = 2048;

export const VIEW_STATUSES = ['PRESENT', 'NOT_FOUND', 'OUTSIDE_MAX_AGE'] as const;

/**
 * Up to LOG_CHUNK_ROWS logged rows, column by column. Numbers sit in typed arrays (with a null
 * mask) and statuses in bytes: a buffered row is a few hundred bytes in a handful of objects,
 * not the served records' object graph, so buffering costs the garbage collector almost nothing.
 */
export interface LogChunk {
  rows: number;
  requestIds: string[];
  /** Microseconds since the epoch (exact in a double until the year 2255). */
  requestTimes: Float64Array;
  /** Per join key of the shape. */
  keys: Value[][];
  /** Per feature: numbers (int32, float32, float64) in `numbers` with `nulls[row] = 1` for null; other types in `values`. */
  features: { numbers: Float64Array | null; nulls: Uint8Array; values: Value[] | null }[];
  /** Per view: an index into VIEW_STATUSES. */
  statuses: Uint8Array[];
}

const NUMERIC = new Set(['int32', 'float32', 'float64']);

/** The logged rows of one feature-service shape, appended request by request. */
export class LogBuffer {
  readonly chunks: LogChunk[] = [];
  rows = 0;

  constructor(readonly shape: LogShape) {}

  /** Appends a served request: statuses by each view's ttl at `now`, values as served. */
  add(requestId: string, now: Micros, rows: EntityRows, records: (OnlineRecord | null)[][]): void {
    const keyColumns = this.shape.keys.map((key) => rows.columns.find((c) => c.key.name === key.name)?.values);
    for (let row = 0; row < rows.rowCount; row++) {
      let chunk = this.chunks.at(-1);
      if (!chunk || chunk.rows === LOG_CHUNK_ROWS) {
        chunk = this.newChunk();
        this.chunks.push(chunk);
      }
      const at = chunk.rows++;
      chunk.requestIds[at] = requestId;
      chunk.requestTimes[at] = Number(now);
      keyColumns.forEach((values, k) => (chunk.keys[k][at] = values?.[row] ?? null));
      const present = this.shape.views.map((view, v) => {
        const record = records[v][row];
        const status = !record ? 1 : isWithinTtl(record.eventTimestamp, now, view.ttlSeconds) ? 0 : 2;
        chunk.statuses[v][at] = status;
        return status === 0 ? record : null;
      });
      this.shape.features.forEach((feature, f) => {
        const value = present[feature.viewIndex]?.values[feature.featureIndex] ?? null;
        const column = chunk.features[f];
        if (column.numbers) {
          if (value === null) column.nulls[at] = 1;
          else column.numbers[at] = value as number;
        } else {
          (column.values as Value[])[at] = value;
        }
      });
    }
    this.rows += rows.rowCount;
  }

  private newChunk(): LogChunk {
    return {
      rows: 0,
      requestIds: new Array<string>(LOG_CHUNK_ROWS),
      requestTimes: new Float64Array(LOG_CHUNK_ROWS),
      keys: this.shape.keys.map(() => new Array<Value>(LOG_CHUNK_ROWS)),
      features: this.shape.features.map((f) =>
        NUMERIC.has(f.type) ? { numbers: new Float64Array(LOG_CHUNK_ROWS), nulls: new Uint8Array(LOG_CHUNK_ROWS), values: null } : { numbers: null, nulls: new Uint8Array(0), values: new Array<Value>(LOG_CHUNK_ROWS) },
      ),
      statuses: this.shape.views.map(() => new Uint8Array(LOG_CHUNK_ROWS)),
    };
  }
}

/** A chunk's column of feature `f` as plain values (null where the mask says so). */
export function featureValues(chunk: LogChunk, f: number): Value[] {
  const column = chunk.features[f];
  const out = new Array<Value>(chunk.rows);
  for (let i = 0; i < chunk.rows; i++) out[i] = column.numbers ? (column.nulls[i] ? null : column.numbers[i]) : (column.values as Value[])[i];
  return out;
}
