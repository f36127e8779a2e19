import { Readable, Transform } from 'node:stream';
import { RequestTimeoutError } from './errors';

/**
 * A pass-through that fails with REQUEST_TIMEOUT (408) when no data has arrived for `idleMs`:
 * a client that opens a request body and then trickles or stalls (slowloris) loses its request
 * instead of holding a connection and a buffer forever. Idle, not total, so a large upload on a
 * slow but live link still completes.
 */
export function idleTimeout(idleMs: number): Transform {
  let timer: NodeJS.Timeout | undefined;
  const stream = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      arm();
      done(null, chunk);
    },
    flush(done) {
      clearTimeout(timer);
      done();
    },
  });
  const arm = () => {
    clearTimeout(timer);
    timer = setTimeout(() => stream.destroy(new RequestTimeoutError(`no request data for ${idleMs / 1000} s; the request was abandoned`)), idleMs);
    timer.unref();
  };
  stream.on('close', () => clearTimeout(timer));
  // The error reaches whoever reads the body; with nobody reading any more it must not take the
  // process down as an unhandled 'error' event.
  stream.on('error', () => undefined);
  arm();
  return stream;
}

/**
 * `source` piped through an idle timeout. `pipe` forwards neither errors nor an aborted source,
 * so both are passed on here: a client that disconnects mid-body stops the clock instead of
 * leaving a timer to fire on a stream nobody reads.
 */
export function withIdleTimeout(source: Readable, idleMs: number): Transform {
  const idle = idleTimeout(idleMs);
  source.once('error', (error) => idle.destroy(error));
  source.once('close', () => {
    if (!source.readableEnded) idle.destroy();
  });
  return source.pipe(idle);
}
