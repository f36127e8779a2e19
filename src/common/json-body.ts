import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { json } from 'express';
import { MalformedJsonError, PayloadTooLargeError, UnsupportedMediaTypeError } from './errors';

/**
 * Express's JSON body parser with its failures turned into DomainErrors, so they reach the one
 * exception filter with a stable code like every other error. Only JSON content types are
 * parsed: data uploads stay unread streams for the ingest endpoint.
 */
export function jsonBodyParser(maxBytes: number): RequestHandler {
  const parse = json({ limit: maxBytes, type: ['application/json', 'application/*+json'] });
  return (request: Request, response: Response, next: NextFunction) =>
    parse(request, response, (error?: unknown) => next(error === undefined ? undefined : toBodyError(error, maxBytes)));
}

function toBodyError(error: unknown, maxBytes: number): unknown {
  switch ((error as { type?: string }).type) {
    case 'entity.parse.failed':
      return new MalformedJsonError(`request body is not valid JSON: ${(error as Error).message}`);
    case 'entity.too.large':
      return new PayloadTooLargeError(`request body is larger than the limit of ${maxBytes} bytes`);
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return new UnsupportedMediaTypeError((error as Error).message);
    default:
      return error;
  }
}
