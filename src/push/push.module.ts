import { Module } from '@nestjs/common';
import { LakeModule } from '../lake/lake.module';
import { OnlineStoreModule } from '../online-store/online-store.module';
import { RegistryModule } from '../registry/registry.module';
import { PushController } from './push.controller';
import { PushService } from './push.service';

/** Feast's /push: rows from streams and services, online at once and/or into the lake. */
@Module({
  imports: [RegistryModule, LakeModule, OnlineStoreModule],
  providers: [PushService],
  controllers: [PushController],
  exports: [PushService],
})
export class PushModule {}
