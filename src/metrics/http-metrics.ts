import type { FastifyInstance } from 'fastify';
import { Metrics } from './metrics';

/**
 * Latency of every HTTP request by route template (`/datasets/:name`, never the concrete path, so
 * label values stay few), method and status — 401s from the auth hook and 404s included.
 */
export function registerHttpMetrics(fastify: FastifyInstance, metrics: Metrics): void {
  const duration = metrics.histogram('featurelake_http_request_duration_seconds', 'HTTP request latency', ['method', 'route', 'status']);
  fastify.addHook('onResponse', (request, reply, done) => {
    duration.observe({ method: request.method, route: request.routeOptions.url ?? 'unmatched', status: String(reply.statusCode) }, reply.elapsedTime / 1000);
    done();
  });
}
