import { Inject, Module, OnApplicationShutdown } from '@nestjs/common';
import { join } from 'node:path';
import { AppConfig } from '../config/app-config';
import { LocalObjectStore } from './local.object-store';
import { ObjectStore } from './object-store';
import { S3ObjectStore } from './s3.object-store';

/** The lake's object store, chosen by config; shared by the lake (datasets) and the registry. */
@Module({
  providers: [
    {
      provide: ObjectStore,
      inject: [AppConfig],
      useFactory: (config: AppConfig): ObjectStore =>
        config.lake.kind === 'local'
          ? new LocalObjectStore(config.lake.rootDir)
          : new S3ObjectStore(config.lake, join(config.stateDir, 'cache', 's3')),
    },
  ],
  exports: [ObjectStore],
})
export class ObjectStoreModule implements OnApplicationShutdown {
  constructor(@Inject(ObjectStore) private readonly store: ObjectStore) {}

  onApplicationShutdown(): void {
    if (this.store instanceof S3ObjectStore) this.store.destroy();
  }
}
