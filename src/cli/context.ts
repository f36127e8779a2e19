import { INestApplicationContext, Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AppModule } from '../app.module';
import { ScratchSpace } from '../common/scratch-space';
import { AppConfig } from '../config/app-config';
import { configEnv, loadConfig } from '../config/load-config';

export interface GlobalOptions {
  repo: string;
}

export function cliConfig(options: GlobalOptions): AppConfig {
  return loadConfig(options.repo, configEnv(process.env));
}

/**
 * Runs one CLI command against the application's services (no HTTP server). Stores open lazily,
 * so a command only touches what it uses, and everything is closed when it returns.
 */
export async function withServices<T>(options: GlobalOptions, work: (get: <S>(type: Type<S>) => S, config: AppConfig) => Promise<T>): Promise<T> {
  const loaded = cliConfig(options);
  // A command runs its job in its own process, as it always has: on the local queue, whatever queue the servers use.
  const config = AppConfig.of({ ...loaded, queue: { ...loaded.queue, url: 'local' } });
  const app: INestApplicationContext = await NestFactory.createApplicationContext(AppModule.register(config), { logger: ['error'] });
  try {
    return await work((type) => app.get(type, { strict: false }), config);
  } finally {
    await app.close();
    app.get(ScratchSpace).remove(); // after DuckDB closed its spill files
  }
}
