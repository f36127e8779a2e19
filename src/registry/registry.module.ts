import { Module } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { OfflineDatabase, OfflineDuckDb } from '../duckdb/duckdb.module';
import { datasetSnapshotLog } from '../lake/dataset-manifest';
import { ViewBinder } from '../offline-store/view-binder';
import { ObjectStoreModule } from '../storage/object-store.module';
import { ObjectStore } from '../storage/object-store';
import { DefinitionsBinding } from './definitions-binding';
import { FeatureRepoReader } from './feature-repo.reader';
import { RegistryController } from './registry.controller';
import { RegistryService } from './registry.service';
import { LakeRegistryStore, RegistryStore } from './registry.store';

/** Feature definitions: plan and apply the feature repo, versions kept in the lake. */
@Module({
  imports: [ObjectStoreModule, OfflineDuckDb],
  providers: [
    RegistryService,
    { provide: RegistryStore, inject: [ObjectStore], useFactory: (store: ObjectStore) => new LakeRegistryStore(store) },
    {
      // Views are bound on the offline store's engine, against their datasets' latest schemas.
      provide: DefinitionsBinding,
      inject: [ObjectStore, OfflineDatabase],
      useFactory: (store: ObjectStore, db: OfflineDatabase) =>
        new DefinitionsBinding(async (dataset) => (await datasetSnapshotLog(store, dataset).latest())?.manifest.schema ?? null, new ViewBinder(db)),
    },
    { provide: FeatureRepoReader, inject: [AppConfig], useFactory: (config: AppConfig) => new FeatureRepoReader(config.repoDir) },
  ],
  controllers: [RegistryController],
  exports: [RegistryService, RegistryStore],
})
export class RegistryModule {}
