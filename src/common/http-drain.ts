import { Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import type { FastifyInstance } from 'fastify';

/** Kubernetes sends SIGKILL 30 s after SIGTERM by default: finish what we can well before that. */
const DRAIN_DEADLINE_MS = 25_000;

/**
 * Graceful shutdown of the HTTP server, first of all shutdown steps. Nest would close the HTTP
 * server last, after the modules had closed DuckDB and Redis under requests still running, and
 * Fastify's own close cuts in-flight requests; so on SIGTERM this stops accepting connections,
 * lets the requests in flight finish (up to a deadline), and only then lets the modules shut down
 * (the feature log flushes after the last served request).
 */
@Injectable()
export class HttpDrain implements OnModuleDestroy {
  private readonly logger = new Logger('Shutdown');
  private fastify?: FastifyInstance;
  private readonly running = new Set<object>();

  private get inFlight(): number {
    return this.running.size;
  }

  attach(fastify: FastifyInstance): void {
    this.fastify = fastify;
    fastify.addHook('onRequest', (request, _reply, done) => {
      this.running.add(request);
      done();
    });
    // onResponse runs once a response is sent; onRequestAbort when the client went away first.
    fastify.addHook('onResponse', (request, _reply, done) => {
      this.running.delete(request);
      done();
    });
    fastify.addHook('onRequestAbort', (request, done) => {
      this.running.delete(request);
      done();
    });
  }

  async onModuleDestroy(): Promise<void> {
    const server = this.fastify?.server;
    if (!server?.listening) return;
    const started = Date.now();
    server.close(); // no new connections; requests in flight carry on
    while (this.inFlight > 0 && Date.now() - started < DRAIN_DEADLINE_MS) {
      server.closeIdleConnections(); // keep-alive clients between requests: let them go
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    if (this.inFlight > 0) this.logger.warn(`${this.inFlight} request(s) still running after ${DRAIN_DEADLINE_MS} ms; closing their connections`);
    server.closeAllConnections();
    this.logger.log(`HTTP server drained in ${Date.now() - started} ms`);
  }
}
