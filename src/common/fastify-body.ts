import type { FastifyInstance } from 'fastify';
import { MalformedJsonError, UnsupportedMediaTypeError } from './errors';

/**
 * Request bodies on Fastify: JSON is parsed by us so that a malformed body becomes a DomainError
 * with a stable code; every other content type is left as an unread stream (`request.raw`) for
 * the upload endpoint, which checks the type and streams the data to disk.
 */
export function registerBodyParsers(fastify: FastifyInstance): void {
  fastify.removeAllContentTypeParsers();
  const parseJson = (_request: unknown, body: string | Buffer, done: (error: Error | null, value?: unknown) => void) => {
    try {
      done(null, body === '' ? undefined : JSON.parse(body as string));
    } catch (error) {
      done(new MalformedJsonError(`request body is not valid JSON: ${(error as Error).message}`), undefined);
    }
  };
  fastify.addContentTypeParser('application/json', { parseAs: 'string' }, parseJson);
  fastify.addContentTypeParser(/^application\/[\w.+-]+\+json$/, { parseAs: 'string' }, parseJson);
  fastify.addContentTypeParser('*', (request, _payload, done) => {
    if (STREAM_ROUTES.includes(request.routeOptions.url ?? '')) return done(null, undefined);
    done(new UnsupportedMediaTypeError(`Content-Type ${JSON.stringify(request.headers['content-type'] ?? '')} is not accepted here; send application/json`), undefined);
  });
}

/** Routes that read their body as a stream (data uploads); every other route takes JSON only. */
const STREAM_ROUTES = ['/datasets/:name/files', '/get-historical-features/upload'];
