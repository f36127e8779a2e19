import { Global, Logger, Module } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { HttpDrain } from './http-drain';
import { ScratchSpace } from './scratch-space';
import { ShutdownSignal } from './shutdown-signal';
import { TempFiles } from './temp-files';

/**
 * Scratch space shared by the modules that stage files (ingest uploads, retrieval results,
 * DuckDB spill), the HTTP drain on shutdown and the signal that stops work still running then.
 * What dead processes left in the scratch folder is removed when the application is built.
 */
@Global()
@Module({
  providers: [
    HttpDrain,
    ShutdownSignal,
    {
      provide: ScratchSpace,
      inject: [AppConfig],
      useFactory: (config: AppConfig) => {
        const scratch = new ScratchSpace(config.stateDir);
        const removed = scratch.sweep();
        if (removed.length > 0) new Logger('Scratch').log(`removed what ${removed.length} stopped process(es) left in ${scratch.root}`);
        return scratch;
      },
    },
    { provide: TempFiles, inject: [ScratchSpace, AppConfig], useFactory: (scratch: ScratchSpace, config: AppConfig) => new TempFiles(scratch.dir, config.limits.idleTimeoutSeconds * 1000) },
  ],
  exports: [TempFiles, HttpDrain, ScratchSpace, ShutdownSignal],
})
export class CommonModule {}
