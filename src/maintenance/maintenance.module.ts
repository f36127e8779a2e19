import { DynamicModule, Module } from '@nestjs/common';
import { LakeModule } from '../lake/lake.module';
import { OfflineStoreModule } from '../offline-store/offline-store.module';
import { RegistryModule } from '../registry/registry.module';
import { RetrievalModule } from '../retrieval/retrieval.module';
import { ObjectStoreModule } from '../storage/object-store.module';
import { LakeGc } from './lake-gc';
import { MaintenanceController } from './maintenance.controller';
import { LakeMaintenance } from './lake-maintenance';
import { MAINTENANCE_OPTIONS, MaintenanceOptions, MaintenanceSchedule } from './maintenance-schedule';
import { SnapshotPins, TrainingSetPins } from './snapshot-pins';
import { SnapshotRetention } from './snapshot-retention';

/** The lake looking after itself: compaction, retention and GC, by command and on the schedule of featurelake.yaml. */
@Module({})
export class MaintenanceModule {
  static register(options: MaintenanceOptions): DynamicModule {
    return {
      module: MaintenanceModule,
      imports: [ObjectStoreModule, RegistryModule, LakeModule, OfflineStoreModule, RetrievalModule],
      providers: [
        LakeGc,
        SnapshotRetention,
        LakeMaintenance,
        MaintenanceSchedule,
        { provide: SnapshotPins, useClass: TrainingSetPins },
        { provide: MAINTENANCE_OPTIONS, useValue: options },
      ],
      controllers: [MaintenanceController],
      exports: [LakeMaintenance, LakeGc],
    };
  }
}
