import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ClientGoneError } from './errors';
import { ShutdownSignal } from './shutdown-signal';

const DECORATION = 'featurelakeShutdown';

/** Makes the process's shutdown signal reachable from requests (no per-request cost). */
export function attachShutdownSignal(fastify: FastifyInstance, shutdown: ShutdownSignal): void {
  fastify.decorate(DECORATION, shutdown.signal);
}

/**
 * A signal that fires when the client goes away before its answer was sent, or when the server
 * stops: engine work under it is interrupted (DuckDbDatabase) and its temp files removed, so
 * nobody's abandoned query keeps spilling to disk.
 */
export function requestSignal(reply: FastifyReply, shutdown?: AbortSignal): AbortSignal {
  const controller = new AbortController();
  const stop = () => controller.abort(shutdown?.reason);
  const closed = () => {
    shutdown?.removeEventListener('abort', stop);
    if (!reply.raw.writableFinished) controller.abort(new ClientGoneError('the client closed the connection before the answer was complete'));
  };
  reply.raw.once('close', closed);
  if (shutdown?.aborted) stop();
  else shutdown?.addEventListener('abort', stop, { once: true });
  return controller.signal;
}

/** The request's signal as a handler parameter: `@RequestSignal() signal: AbortSignal`. */
export const RequestSignal = createParamDecorator((_data: unknown, context: ExecutionContext): AbortSignal => {
  const http = context.switchToHttp();
  const request = http.getRequest<FastifyRequest>();
  const shutdown = (request.server as unknown as Record<string, AbortSignal | undefined>)[DECORATION];
  return requestSignal(http.getResponse<FastifyReply>(), shutdown);
});
