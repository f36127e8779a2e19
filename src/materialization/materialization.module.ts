import { Module } from '@nestjs/common';
import { LakeModule } from '../lake/lake.module';
import { OfflineStoreModule } from '../offline-store/offline-store.module';
import { OnlineStoreModule } from '../online-store/online-store.module';
import { RegistryModule } from '../registry/registry.module';
import { MaterializationController } from './materialization.controller';
import { MaterializationService } from './materialization.service';

@Module({
  imports: [RegistryModule, LakeModule, OfflineStoreModule, OnlineStoreModule],
  providers: [MaterializationService],
  controllers: [MaterializationController],
  exports: [MaterializationService],
})
export class MaterializationModule {}
