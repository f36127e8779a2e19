import { Global, Module } from '@nestjs/common';
import { join } from 'node:path';
import { AppConfig } from '../config/app-config';
import { HttpDrain } from './http-drain';
import { TempFiles } from './temp-files';

/** Scratch space shared by the modules that stage files (ingest uploads, retrieval results), and the HTTP drain on shutdown. */
@Global()
@Module({
  providers: [HttpDrain, { provide: TempFiles, inject: [AppConfig], useFactory: (config: AppConfig) => new TempFiles(join(config.stateDir, 'tmp'), config.limits.idleTimeoutSeconds * 1000) }],
  exports: [TempFiles, HttpDrain],
})
export class CommonModule {}
