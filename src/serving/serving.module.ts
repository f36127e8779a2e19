import { Module } from '@nestjs/common';
import { OnlineStoreModule } from '../online-store/online-store.module';
import { RegistryModule } from '../registry/registry.module';
import { OnlineFeaturesService } from './online-features.service';
import { ServingController } from './serving.controller';

@Module({
  imports: [RegistryModule, OnlineStoreModule],
  providers: [OnlineFeaturesService],
  controllers: [ServingController],
  exports: [OnlineFeaturesService],
})
export class ServingModule {}
