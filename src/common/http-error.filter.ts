import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { asDomainError, ClientGoneError, DomainError, ShuttingDownError, TimeLimitExceededError } from './errors';
import { feastErrorResponse, isFeastRoute } from './feast-errors';

export interface ErrorBody {
  code: string;
  message: string;
  details?: Record<string, unknown>;
}

/** Framework errors that carry only a status, by the code we report for them. */
const STATUS_CODES: Record<number, string> = { 400: 'BAD_REQUEST', 404: 'NOT_FOUND', 408: 'REQUEST_TIMEOUT', 413: 'PAYLOAD_TOO_LARGE', 414: 'PATH_TOO_LONG', 415: 'UNSUPPORTED_MEDIA_TYPE' };

/**
 * Errors Fastify raises before a route runs (a malformed URL, a path parameter over the length
 * limit): answered with our codes rather than Fastify's internal `FST_ERR_*` names.
 */
export function frameworkErrorBody(error: { statusCode?: number; message: string }): { status: number; body: ErrorBody } {
  const status = error.statusCode && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 400;
  return { status, body: { code: STATUS_CODES[status] ?? 'BAD_REQUEST', message: error.message } };
}

/**
 * Sends an error answer: every one carries its stable code in `X-Error-Code`; the body is
 * `{ code, message, details }`, or Feast's error detail on the routes that speak Feast's wire
 * format (feast-errors.ts).
 */
export function sendError(reply: FastifyReply, url: string, status: number, body: ErrorBody): void {
  void reply.header('x-error-code', body.code).type('application/json');
  if (!isFeastRoute(url)) {
    void reply.status(status).send(body);
    return;
  }
  const feast = feastErrorResponse(status, body);
  void reply.status(feast.status).send(feast.json);
}

/** Maps any error to a status and a `{ code, message, details }` body; the one place that does so. */
export function toErrorResponse(raw: unknown, request?: Pick<FastifyRequest, 'method' | 'url'>): { status: number; body: ErrorBody } {
  const error = asDomainError(raw);
  if (error instanceof DomainError) {
    return { status: error.status, body: { code: error.code, message: error.message, details: error.details } };
  }
  if (error instanceof HttpException) {
    const status = error.getStatus();
    if (status === 404 && request) {
      return { status, body: { code: 'NOT_FOUND', message: `no route ${request.method} ${request.url.split('?')[0]}` } };
    }
    return { status, body: { code: STATUS_CODES[status] ?? `HTTP_${status}`, message: error.message } };
  }
  return { status: 500, body: { code: 'INTERNAL_ERROR', message: 'internal error; the server log has the details' } };
}

@Catch()
export class HttpErrorFilter implements ExceptionFilter {
  private readonly logger = new Logger('HttpError');

  /** `onStopped` hears of requests whose work was stopped (the client left, shutdown, a time budget), for metrics. */
  constructor(private readonly onStopped: (reason: string) => void = () => undefined) {}

  catch(error: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const reply = http.getResponse<FastifyReply>();
    const request = http.getRequest<FastifyRequest>();
    const reason = stopReasonLabel(error);
    if (reason) this.onStopped(reason);
    if (error instanceof ClientGoneError) {
      // Nobody is left to answer: the work was stopped and cleaned up; say so in the log only.
      this.logger.log(`${request.method} ${request.url}: the client went away; its work was stopped`);
      reply.raw.destroy();
      return;
    }
    const { status, body } = toErrorResponse(error, request);
    if (status >= 500) this.logger.error(`${request.method} ${request.url}: ${(error as Error)?.stack ?? String(error)}`);
    if (reply.sent || reply.raw.headersSent) {
      reply.raw.destroy(); // a streamed body broke half-way: cut the connection rather than send a lie
      return;
    }
    // The rest of a stalled or oversized body is not worth reading: close the connection after answering.
    if (status === 408 || status === 413) void reply.header('connection', 'close');
    sendError(reply, request.url, status, body);
  }
}

function stopReasonLabel(error: unknown): string | null {
  if (error instanceof ClientGoneError) return 'client_gone';
  if (error instanceof ShuttingDownError) return 'shutting_down';
  if (error instanceof TimeLimitExceededError) return 'time_limit';
  return null;
}
