import { INestApplication, LogLevel } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { AppModule } from './app.module';
import { registerBodyParsers } from './common/fastify-body';
import { AppConfig } from './config/app-config';
import { SkewScheduler } from './monitoring/skew/skew-scheduler';

export interface HttpAppOptions {
  logger?: LogLevel[] | false;
}

/**
 * Builds the HTTP application (not yet listening) on Fastify — chosen over Express by
 * measurement (bench/README.md): JSON bodies only for JSON content types (data uploads stay
 * unread streams), OpenAPI at /docs, and every error as `{ code, message }`.
 */
export async function createHttpApp(config: AppConfig, options: HttpAppOptions = {}): Promise<INestApplication> {
  // skipMiddie: featurelake uses no Express-style middleware, and middie's hook costs every request.
  const adapter = new FastifyAdapter({ bodyLimit: config.limits.maxJsonBytes, routerOptions: { maxParamLength: 200 }, skipMiddie: true });
  registerBodyParsers(adapter.getInstance());
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.register(config), adapter, {
    bodyParser: false,
    logger: options.logger ?? ['warn', 'error'],
  });
  app.enableShutdownHooks();
  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('featurelake')
      .setDescription("Feature store with its own data lake. /get-online-features, /materialize, /materialize-incremental and /health speak Feast's feature-server format.")
      .setVersion('0.1.0')
      .build(),
  );
  SwaggerModule.setup('docs', app, document);
  await app.init();
  await adapter.getInstance().ready();
  // Declared skew checks run in the server only: CLI commands build the same modules but never schedule.
  app.get(SkewScheduler).start();
  return app;
}
