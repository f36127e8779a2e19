import { LogLevelName } from '../common/logging';
import { ApiKeyDef } from '../core/access';

/** Where the lake lives. Local: a folder. S3: a bucket and key prefix on any S3-compatible endpoint. */
export type LakeLocation =
  | { kind: 'local'; rootDir: string; uri: string }
  | {
      kind: 's3';
      uri: string;
      bucket: string;
      prefix: string;
      endpoint?: string;
      region: string;
      forcePathStyle: boolean;
      /** A request idle this long (connecting: a fifth of it) is abandoned and retried with backoff. */
      timeoutMs: number;
      credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
    };

export type OnlineStoreConfig =
  | { type: 'embedded'; path: string }
  | {
      type: 'redis';
      url: string;
      cluster: boolean;
      /** A command that has no answer after this long fails (ONLINE_STORE_UNAVAILABLE) rather than hang a request. */
      timeoutMs: number;
    };

export interface Limits {
  /** Entity rows in one /get-online-features request. */
  maxOnlineRows: number;
  /** Entity rows in one JSON /get-historical-features request. */
  maxHistoricalRows: number;
  /** Bytes in one JSON request body. */
  maxJsonBytes: number;
  /** Bytes in one uploaded data file. */
  maxUploadBytes: number;
  /** A request body that stops arriving for this long is answered 408: slow clients cannot hold connections and memory. */
  idleTimeoutSeconds: number;
}

/** API keys: auth is off while none is configured (the embedded local setup) and on as soon as one is. */
export interface AuthConfig {
  keys: ApiKeyDef[];
}

/** Feature logging: buffered in memory off the request path, flushed to the lake. */
export interface MonitoringConfig {
  /** Buffered rows are flushed at least this often… */
  logFlushSeconds: number;
  /** …and as soon as this many are buffered. */
  logFlushRows: number;
  /** At most this many rows wait in memory; beyond that rows are dropped and counted, so serving never waits on the lake. */
  logBufferRows: number;
}

/**
 * The whole validated configuration: the project file `featurelake.yaml` with environment
 * overrides applied. It is a class so that it doubles as its own injection token.
 */
export class AppConfig {
  repoDir!: string;
  project!: string;
  lake!: LakeLocation;
  offlinePath!: string;
  /** DuckDB memory_limit for the offline store; memory stays bounded, large operations spill to disk. */
  duckdbMemoryLimit!: string;
  online!: OnlineStoreConfig;
  /** Local working folder: lake object cache, temporary files, the running server's address. */
  stateDir!: string;
  registryRefreshSeconds!: number;
  limits!: Limits;
  monitoring!: MonitoringConfig;
  auth!: AuthConfig;
  /** The server's JSON log level. */
  logLevel!: LogLevelName;

  static of(values: AppConfig): AppConfig {
    return Object.assign(new AppConfig(), values);
  }
}
