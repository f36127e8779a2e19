import { INestApplication, LogLevel } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { AppModule } from './app.module';
import { jsonBodyParser } from './common/json-body';
import { AppConfig } from './config/app-config';

export interface HttpAppOptions {
  logger?: LogLevel[] | false;
}

/**
 * Builds the HTTP application (not yet listening): JSON bodies only for application/json (data
 * uploads stay unparsed streams), OpenAPI at /docs, and every error as `{ code, message }`.
 */
export async function createHttpApp(config: AppConfig, options: HttpAppOptions = {}): Promise<INestApplication> {
  const app = await NestFactory.create<NestExpressApplication>(AppModule.register(config), {
    bodyParser: false,
    logger: options.logger ?? ['warn', 'error'],
  });
  app.use(jsonBodyParser(config.limits.maxJsonBytes));
  app.enableShutdownHooks();
  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('featurelake')
      .setDescription('Feature store with its own data lake. /get-online-features, /materialize, /materialize-incremental and /health speak Feast\'s feature-server format.')
      .setVersion('0.1.0')
      .build(),
  );
  SwaggerModule.setup('docs', app, document);
  await app.init();
  return app;
}
