import { DynamicModule, Logger, Module, Type } from '@nestjs/common';
import { ScratchSpace } from '../common/scratch-space';
import { AppConfig } from '../config/app-config';
import { DuckDbInstanceName, duckDbInstanceLimits } from '../config/config-limits';
import { Metrics } from '../metrics/metrics';
import { DuckDbDatabase } from './duckdb-database';

/**
 * The offline store's DuckDB: in memory, a local engine over the lake's files (the offline rows
 * themselves are in the lake, so any process rebuilds what it needs).
 */
export class OfflineDatabase extends DuckDbDatabase {}

export interface DuckDbRegistration {
  /** The token the database is provided under (each module keeps its own). */
  token: symbol | Type<DuckDbDatabase>;
  /** The instance's name: its share of the limits (config-limits.ts), its spill folder, messages. */
  name: DuckDbInstanceName;
  /** The database file, `:memory:`, or null when this configuration needs no such instance. */
  path: (config: AppConfig) => string | null;
}

/**
 * Every DuckDB instance of the process is made here, so none can exist without its memory
 * limit and spill limit (a share of `duckdb.memory_limit` and `duckdb.temp_limit`), its spill
 * folder inside the process's scratch space, and notice of a file replaced under it. Instances
 * are closed with the application. Register each instance once (a constant) and import that
 * constant wherever it is needed, so every importer shares the one instance.
 */
@Module({})
export class DuckDbModule {
  static register(registration: DuckDbRegistration): DynamicModule {
    return {
      module: DuckDbModule,
      providers: [
        {
          provide: registration.token,
          inject: [AppConfig, ScratchSpace, Metrics],
          useFactory: (config: AppConfig, scratch: ScratchSpace, metrics: Metrics) => createDatabase(registration, config, scratch, metrics),
        },
      ],
      exports: [registration.token],
    };
  }
}

function createDatabase(registration: DuckDbRegistration, config: AppConfig, scratch: ScratchSpace, metrics: Metrics): DuckDbDatabase | null {
  const path = registration.path(config);
  if (path === null) return null;
  const replaced = metrics.counter('featurelake_state_file_replaced_total', 'Local DuckDB files found deleted or replaced under the running process (then reopened)', ['instance']);
  const Class = registration.token === OfflineDatabase ? OfflineDatabase : DuckDbDatabase;
  return new Class({
    name: registration.name,
    path,
    tempDir: scratch.duckDbDir(registration.name),
    stateDir: config.stateDir,
    ...duckDbInstanceLimits(config, registration.name),
    onReplaced: (file) => {
      replaced.inc({ instance: registration.name });
      new Logger('DuckDb').error(`${file} was deleted or replaced under this process; reopened the file now at that path (what was in the old one is not in it)`);
    },
  });
}

/** The offline store's engine. */
export const OfflineDuckDb = DuckDbModule.register({ token: OfflineDatabase, name: 'offline', path: () => ':memory:' });
