import { Module } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { ObjectStoreModule } from '../storage/object-store.module';
import { ObjectStore } from '../storage/object-store';
import { FeatureRepoReader } from './feature-repo.reader';
import { RegistryController } from './registry.controller';
import { RegistryService } from './registry.service';
import { LakeRegistryStore, RegistryStore } from './registry.store';

/** Feature definitions: plan and apply the feature repo, versions kept in the lake. */
@Module({
  imports: [ObjectStoreModule],
  providers: [
    RegistryService,
    { provide: RegistryStore, inject: [ObjectStore], useFactory: (store: ObjectStore) => new LakeRegistryStore(store) },
    { provide: FeatureRepoReader, inject: [AppConfig], useFactory: (config: AppConfig) => new FeatureRepoReader(config.repoDir) },
  ],
  controllers: [RegistryController],
  exports: [RegistryService, RegistryStore],
})
export class RegistryModule {}
