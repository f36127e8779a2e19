import type { FastifyInstance } from 'fastify';
import { jsonDepthExceeds } from '../core/json-depth';
import { MalformedJsonError, UnsupportedMediaTypeError } from './errors';
import { withIdleTimeout } from './idle-timeout';

/**
 * Request bodies on Fastify: JSON is parsed by us so that a malformed body becomes a DomainError
 * with a stable code; every other content type is left as an unread stream (`request.raw`) for
 * the upload endpoint, which checks the type and streams the data to disk.
 */
/** Strict decoding: invalid UTF-8 is a malformed body, not a string full of replacement characters. */
const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });
/** Far more than any featurelake request needs (entities → column → values is three). */
const MAX_JSON_DEPTH = 32;

export function registerBodyParsers(fastify: FastifyInstance, idleMs: number): void {
  fastify.removeAllContentTypeParsers();
  // JSON bodies are read by Fastify: watch them for stalls here. Uploads are streamed by TempFiles, which does the same.
  fastify.addHook('preParsing', (request, _reply, payload, done) => {
    const bodiless = request.method === 'GET' || request.method === 'HEAD' || request.headers['content-length'] === '0';
    if (bodiless || STREAM_ROUTES.includes(request.routeOptions.url ?? '')) return done(null, payload);
    done(null, withIdleTimeout(payload, idleMs));
  });
  const parseJson = (_request: unknown, body: string | Buffer, done: (error: Error | null, value?: unknown) => void) => {
    try {
      const text = UTF8.decode(body as Buffer);
      if (jsonDepthExceeds(text, MAX_JSON_DEPTH)) throw new MalformedJsonError(`request body nests arrays and objects deeper than ${MAX_JSON_DEPTH} levels`);
      done(null, text === '' ? undefined : JSON.parse(text));
    } catch (error) {
      if (error instanceof MalformedJsonError) return done(error, undefined);
      const reason = error instanceof TypeError ? 'it is not valid UTF-8' : (error as Error).message;
      done(new MalformedJsonError(`request body is not valid JSON: ${reason}`), undefined);
    }
  };
  fastify.addContentTypeParser('application/json', { parseAs: 'buffer' }, parseJson);
  fastify.addContentTypeParser(/^application\/[\w.+-]+\+json$/, { parseAs: 'buffer' }, parseJson);
  fastify.addContentTypeParser('*', (request, _payload, done) => {
    if (STREAM_ROUTES.includes(request.routeOptions.url ?? '')) return done(null, undefined);
    done(new UnsupportedMediaTypeError(`Content-Type ${JSON.stringify(request.headers['content-type'] ?? '')} is not accepted here; send application/json`), undefined);
  });
}

/** Routes that read their body as a stream (data uploads); every other route takes JSON only. */
const STREAM_ROUTES = ['/datasets/:name/files', '/get-historical-features/upload'];
