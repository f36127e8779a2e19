import { Global, Module } from '@nestjs/common';
import { join } from 'node:path';
import { AppConfig } from '../config/app-config';
import { TempFiles } from './temp-files';

/** Scratch space shared by the modules that stage files (ingest uploads, retrieval results). */
@Global()
@Module({
  providers: [{ provide: TempFiles, inject: [AppConfig], useFactory: (config: AppConfig) => new TempFiles(join(config.stateDir, 'tmp')) }],
  exports: [TempFiles],
})
export class CommonModule {}
