import { CallHandler, ExecutionContext, Injectable, NestInterceptor } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { map, Observable } from 'rxjs';
import { stringifyJson } from '../core/json';

/**
 * A response body to be written with our JSON writer (exact int64 as JSON numbers) instead of
 * JSON.stringify, which throws on bigint. Handlers that may carry int64 values return this.
 */
export class RawJson {
  constructor(readonly value: unknown) {}
}

@Injectable()
export class RawJsonInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    return next.handle().pipe(
      map((body: unknown) => {
        if (!(body instanceof RawJson)) return body;
        void context.switchToHttp().getResponse<FastifyReply>().type('application/json');
        return stringifyJson(body.value);
      }),
    );
  }
}
