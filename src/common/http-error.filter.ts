import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import type { Request, Response } from 'express';
import { DomainError } from './errors';

export interface ErrorBody {
  code: string;
  message: string;
  details?: Record<string, unknown>;
}

/** Maps any error to a status and a `{ code, message, details }` body; the one place that does so. */
export function toErrorResponse(error: unknown, request?: Pick<Request, 'method' | 'path'>): { status: number; body: ErrorBody } {
  if (error instanceof DomainError) {
    return { status: error.status, body: { code: error.code, message: error.message, details: error.details } };
  }
  if (error instanceof HttpException) {
    const status = error.getStatus();
    if (status === 404 && request) {
      return { status, body: { code: 'NOT_FOUND', message: `no route ${request.method} ${request.path}` } };
    }
    return { status, body: { code: status === 404 ? 'NOT_FOUND' : `HTTP_${status}`, message: error.message } };
  }
  return { status: 500, body: { code: 'INTERNAL_ERROR', message: 'internal error; the server log has the details' } };
}

@Catch()
export class HttpErrorFilter implements ExceptionFilter {
  private readonly logger = new Logger('HttpError');

  catch(error: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const response = http.getResponse<Response>();
    const request = http.getRequest<Request>();
    const { status, body } = toErrorResponse(error, request);
    if (status >= 500) this.logger.error(`${request.method} ${request.path}: ${(error as Error)?.stack ?? String(error)}`);
    if (response.headersSent) {
      response.destroy(); // a streamed body broke half-way: cut the connection rather than send a lie
      return;
    }
    response.status(status).json(body);
  }
}
