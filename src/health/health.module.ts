import { Module } from '@nestjs/common';
import { ObjectStoreModule } from '../storage/object-store.module';
import { OnlineStoreModule } from '../online-store/online-store.module';
import { RegistryModule } from '../registry/registry.module';
import { HealthController } from './health.controller';
import { HealthService } from './health.service';

@Module({
  imports: [RegistryModule, ObjectStoreModule, OnlineStoreModule],
  providers: [HealthService],
  controllers: [HealthController],
})
export class HealthModule {}
