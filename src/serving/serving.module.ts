import { Module } from '@nestjs/common';
import { FeatureLoggingModule } from '../monitoring/logging/feature-logging.module';
import { OnlineStoreModule } from '../online-store/online-store.module';
import { RegistryModule } from '../registry/registry.module';
import { OnlineFeaturesService } from './online-features.service';
import { ServingController } from './serving.controller';

@Module({
  imports: [RegistryModule, OnlineStoreModule, FeatureLoggingModule],
  providers: [OnlineFeaturesService],
  controllers: [ServingController],
  exports: [OnlineFeaturesService],
})
export class ServingModule {}
