import { LogRow, LogShape } from './feature-log';

/**
 * Where logged rows go. Contract: `append` adds the rows to the shape's log dataset in the lake
 * as one new snapshot (all or nothing), typed as the shape says; it may be slow and is never
 * called on the request path.
 */
export abstract class LogSink {
  abstract append(shape: LogShape, rows: LogRow[]): Promise<void>;
}
