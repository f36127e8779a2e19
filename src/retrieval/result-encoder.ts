import { Readable } from 'node:stream';
import type { QueryControl } from '../offline-store/offline-store';

export const RESULT_FORMATS = ['json', 'jsonl', 'csv', 'parquet', 'arrow'] as const;
export type ResultFormat = (typeof RESULT_FORMATS)[number];

export const CONTENT_TYPES: Record<ResultFormat, string> = {
  json: 'application/json',
  jsonl: 'application/x-ndjson',
  csv: 'text/csv',
  parquet: 'application/vnd.apache.parquet',
  arrow: 'application/vnd.apache.arrow.stream',
};

/** How to read a result file as Feast-style JSON: which columns hold which features and their match times. */
export interface ResultLayout {
  /** Output columns in order (spine columns, then features); `matchedAt` names a feature's match-time column. */
  columns: { name: string; matchedAt?: string }[];
  /** Columns to leave out of every encoding (the match-time helpers). */
  hidden: string[];
}

/**
 * Turns a Parquet result file into the requested encoding as a stream, a chunk at a time (a
 * result of millions of rows never sits in memory). Contract: the stream deletes `path` when it
 * ends, fails or is abandoned; JSON is Feast's column-major shape with statuses and event
 * timestamps; JSON Lines, CSV, Parquet and Arrow IPC (stream format) hold the visible columns.
 * A conversion done before streaming (CSV, JSON Lines) is stopped by `control.signal` and
 * bounded by `control.maxResultBytes`, like the query that made the file.
 */
export abstract class ResultEncoder {
  abstract encode(path: string, format: ResultFormat, layout: ResultLayout, control?: QueryControl): Promise<Readable>;
}
