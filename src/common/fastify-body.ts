import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Readable } from 'node:stream';
import { UnsupportedMediaTypeError } from './errors';
import { withIdleTimeout } from './idle-timeout';
import { readJsonBody } from './json-body';

/**
 * Request bodies on Fastify: JSON is read and parsed by us (json-body.ts), bounded in bytes,
 * values and depth while it arrives, so that a malformed or hostile body becomes a DomainError
 * with a stable code; every other content type is left as an unread stream (`request.raw`) for
 * the upload endpoints, which check the type and stream the data to disk.
 */
/** Far more than any featurelake request needs (entities → column → values is three). */
const MAX_JSON_DEPTH = 32;

export interface BodyOptions {
  idleMs: number;
  maxJsonBytes: number;
  maxJsonElements: number;
}

export function registerBodyParsers(fastify: FastifyInstance, options: BodyOptions): void {
  fastify.removeAllContentTypeParsers();
  // JSON bodies are read by our parser: watch them for stalls here. Uploads are streamed by TempFiles, which does the same.
  fastify.addHook('preParsing', (request, _reply, payload, done) => {
    const bodiless = request.method === 'GET' || request.method === 'HEAD' || request.headers['content-length'] === '0';
    if (bodiless || STREAM_ROUTES.includes(request.routeOptions.url ?? '')) return done(null, payload);
    done(null, withIdleTimeout(payload, options.idleMs));
  });
  const limits = { maxBytes: options.maxJsonBytes, maxElements: options.maxJsonElements, maxDepth: MAX_JSON_DEPTH };
  const parseJson = (request: FastifyRequest, payload: Readable) => {
    const declared = request.headers['content-length'];
    return readJsonBody(payload, limits, declared === undefined ? undefined : Number(declared));
  };
  fastify.addContentTypeParser('application/json', parseJson);
  fastify.addContentTypeParser(/^application\/[\w.+-]+\+json$/, parseJson);
  fastify.addContentTypeParser('*', (request, _payload, done) => {
    if (STREAM_ROUTES.includes(request.routeOptions.url ?? '')) return done(null, undefined);
    done(new UnsupportedMediaTypeError(`Content-Type ${JSON.stringify(request.headers['content-type'] ?? '')} is not accepted here; send application/json`), undefined);
  });
}

/** Routes that read their body as a stream (data uploads); every other route takes JSON only. */
const STREAM_ROUTES = ['/datasets/:name/files', '/get-historical-features/upload'];
