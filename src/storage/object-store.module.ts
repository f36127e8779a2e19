import { Inject, Module, OnApplicationShutdown } from '@nestjs/common';
import { join } from 'node:path';
import { AppConfig } from '../config/app-config';
import { Metrics } from '../metrics/metrics';
import { LocalObjectStore } from './local.object-store';
import { DocumentStore } from './document-store';
import { ObjectStore } from './object-store';
import { S3ObjectStore } from './s3.object-store';
import { ScratchObjects } from './scratch-objects';
import { withKillSwitch } from './kill-switch';

/** The lake's object store, chosen by config, and the JSON documents kept in it; shared by every capability. */
@Module({
  providers: [
    {
      provide: ObjectStore,
      inject: [AppConfig, Metrics],
      useFactory: (config: AppConfig, metrics: Metrics): ObjectStore => {
        if (config.lake.kind === 'local') return withKillSwitch(new LocalObjectStore(config.lake.rootDir), config.killAt);
        const errors = metrics.counter('featurelake_s3_request_errors_total', 'S3 request attempts that failed (each retry counts)', ['command']);
        const store = new S3ObjectStore(config.lake, join(config.stateDir, 'cache', 's3'), (command) => errors.inc({ command }));
        void store.sweepPartials().catch(() => undefined); // in the background: the cache can be large
        return withKillSwitch(store, config.killAt);
      },
    },
    DocumentStore,
    ScratchObjects,
  ],
  exports: [ObjectStore, DocumentStore, ScratchObjects],
})
export class ObjectStoreModule implements OnApplicationShutdown {
  constructor(@Inject(ObjectStore) private readonly store: ObjectStore) {}

  onApplicationShutdown(): void {
    if (this.store instanceof S3ObjectStore) this.store.destroy(); // (a Proxy of the kill switch passes instanceof through)
  }
}
