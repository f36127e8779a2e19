import { LogShape } from './feature-log';
import { LogChunk } from './log-buffer';

/**
 * Where logged rows go. Contract: `append` adds the chunks' rows to the shape's log dataset in
 * the lake as one new snapshot (all or nothing), typed as the shape says. It is never called on
 * the request path, and it yields to the event loop while it works so serving is not held up.
 */
export abstract class LogSink {
  abstract append(shape: LogShape, chunks: LogChunk[]): Promise<void>;
}
