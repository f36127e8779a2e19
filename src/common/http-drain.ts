import { Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import type { FastifyInstance } from 'fastify';
import { AppConfig } from '../config/app-config';
import { ShutdownSignal } from './shutdown-signal';

/** What is left of the drain, after work still running is interrupted, for its answers to go out. */
const ANSWER_GRACE_MS = 2_000;

/**
 * Graceful shutdown of the HTTP server, first of all shutdown steps. Nest would close the HTTP
 * server last, after the modules had closed DuckDB and Redis under requests still running, and
 * Fastify's own close cuts in-flight requests; so on SIGTERM this stops accepting connections,
 * lets the requests in flight finish, and only then lets the modules shut down (the feature log
 * flushes after the last served request). Kubernetes sends SIGKILL 30 s after SIGTERM by
 * default, so within `limits.drain_seconds` (25): requests get all but the last two seconds to
 * finish; then every engine statement still running is interrupted (ShutdownSignal), so those
 * requests answer 503 SHUTTING_DOWN and clean up, rather than being cut mid-query.
 */
@Injectable()
export class HttpDrain implements OnModuleDestroy {
  private readonly logger = new Logger('Shutdown');
  private fastify?: FastifyInstance;
  private readonly running = new Set<object>();

  constructor(
    private readonly config: AppConfig,
    private readonly shutdown: ShutdownSignal,
  ) {}

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

  private async waitForRequests(started: number, untilMs: number): Promise<void> {
    const server = this.fastify!.server;
    while (this.inFlight > 0 && Date.now() - started < untilMs) {
      server.closeIdleConnections(); // keep-alive clients between requests: let them go
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }

  async onModuleDestroy(): Promise<void> {
    const server = this.fastify?.server;
    if (!server?.listening) return;
    const started = Date.now();
    const deadlineMs = this.config.limits.drainSeconds * 1000;
    const interruptAtMs = Math.max(deadlineMs - ANSWER_GRACE_MS, deadlineMs / 2);
    server.close(); // no new connections; requests in flight carry on
    await this.waitForRequests(started, interruptAtMs);
    if (this.inFlight > 0) {
      this.logger.warn(`${this.inFlight} request(s) still running after ${interruptAtMs} ms; interrupting their work`);
      this.shutdown.stop();
      await this.waitForRequests(started, deadlineMs);
    }
    this.shutdown.stop(); // and any work that is not a request (jobs, scheduled checks)
    if (this.inFlight > 0) this.logger.warn(`${this.inFlight} request(s) still running after ${deadlineMs} ms; closing their connections`);
    server.closeAllConnections();
    this.logger.log(`HTTP server drained in ${Date.now() - started} ms`);
  }
}
