import { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { FastifyError, FastifyInstance, FastifyReply, FastifyRequest, LogController } from 'fastify';
import type { Logger } from 'pino';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { AppModule } from './app.module';
import { ApiKeyAuthenticator } from './auth/api-key.authenticator';
import { registerAuthHook } from './auth/auth.hook';
import { registerBodyParsers } from './common/fastify-body';
import { HttpDrain } from './common/http-drain';
import { attachShutdownSignal } from './common/request-signal';
import { ShutdownSignal } from './common/shutdown-signal';
import { frameworkErrorBody, sendError } from './common/http-error.filter';
import { createServerLogger, PinoNestLogger, registerRequestLogging, requestIdOf } from './common/logging';
import { AppConfig } from './config/app-config';
import { registerHttpMetrics } from './metrics/http-metrics';
import { Metrics } from './metrics/metrics';
import { SkewScheduler } from './monitoring/skew/skew-scheduler';
import { OnlineRecovery } from './materialization/online-recovery';
import { WorkerSpawner } from './queue/forked-worker';

export interface HttpAppOptions {
  /** false: no log at all (tests); otherwise JSON lines at the configured level. */
  logger?: false;
  /** Whether this process takes tasks off a Redis queue (default true; `serve` leaves them to its worker process). */
  worker?: boolean;
  /** On the local queue: the worker process to hand tasks and calls to (`serve`); without it they run in this process. */
  forkWorker?: WorkerSpawner;
  /** Run the lake maintenance schedule here (a server that runs its compute itself). */
  scheduled?: boolean;
}

/**
 * Builds the HTTP application (not yet listening) on Fastify — chosen over Express by
 * measurement (bench/README.md): JSON bodies only for JSON content types (data uploads stay
 * unread streams), OpenAPI at /docs, and every error as `{ code, message }`.
 */
export async function createHttpApp(config: AppConfig, options: HttpAppOptions = {}): Promise<INestApplication> {
  const log = createServerLogger(options.logger === false ? 'silent' : config.logLevel);
  const adapter = createAdapter(config, log);
  const fastify = adapter.getInstance();
  registerBodyParsers(fastify, { idleMs: config.limits.idleTimeoutSeconds * 1000, maxJsonBytes: config.limits.maxJsonBytes, maxJsonElements: config.limits.maxJsonElements });
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.register(config, { worker: options.worker ?? true, forkWorker: options.forkWorker, scheduled: options.scheduled }), adapter, { bodyParser: false, logger: new PinoNestLogger(log) });
  app.enableShutdownHooks();
  registerHooks(app, fastify);
  SwaggerModule.setup('docs', app, SwaggerModule.createDocument(app, openApiInfo()));
  await app.init();
  await fastify.ready();
  // Declared skew checks and the online store's loss check run in the server only: CLI commands build the same modules but never schedule.
  app.get(SkewScheduler).start();
  app.get(OnlineRecovery).start();
  return app;
}

function createAdapter(config: AppConfig, log: Logger): FastifyAdapter {
  return new FastifyAdapter({
    loggerInstance: log,
    // One line per finished request, at a level chosen by status (registerRequestLogging).
    logController: new LogController({ disableRequestLogging: true }),
    requestIdHeader: false,
    genReqId: requestIdOf,
    bodyLimit: config.limits.maxJsonBytes,
    routerOptions: { maxParamLength: 200 },
    frameworkErrors: (error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
      const { status, body } = frameworkErrorBody(error);
      sendError(reply, request.url, status, body);
    },
    // featurelake uses no Express-style middleware, and middie's hook costs every request.
    skipMiddie: true,
  });
}

/**
 * Request hooks, in order: drain tracking, request id and logging, latency metrics, then
 * authentication. They go on before any route exists (Nest registers routes in init, Swagger in
 * setup), so they cover every route, the OpenAPI pages and unknown paths.
 */
function registerHooks(app: INestApplication, fastify: FastifyInstance): void {
  const metrics = app.get(Metrics);
  const authFailures = metrics.counter('featurelake_auth_failures_total', 'Requests turned away for a missing or invalid API key', ['reason']);
  app.get(HttpDrain).attach(fastify);
  attachShutdownSignal(fastify, app.get(ShutdownSignal));
  registerRequestLogging(fastify);
  registerHttpMetrics(fastify, metrics);
  registerAuthHook(fastify, app.get(ApiKeyAuthenticator), (reason) => authFailures.inc({ reason }));
  metrics.collectProcessMetrics();
}

function openApiInfo() {
  return new DocumentBuilder()
    .setTitle('featurelake')
    .setDescription("Feature store with its own data lake. /get-online-features, /materialize, /materialize-incremental and /health speak Feast's feature-server format.")
    .setVersion('0.1.0')
    .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'API key (when keys are configured); X-API-Key works too' })
    .addSecurityRequirements('bearer')
    .build();
}
