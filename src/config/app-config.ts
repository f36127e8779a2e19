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

/** Where jobs queue and how workers take their tasks. */
export interface QueueConfig {
  /** `local`: in this process; otherwise the Redis that BullMQ keeps the queue in. */
  url: string;
  /** Tasks one worker runs at once (its DuckDB work and its online writes overlap). */
  concurrency: number;
  /** Tasks a feature view's buckets are split into, so that several workers share one view. */
  rangesPerView: number;
  /** Parts a training set or retrieval is split into on BullMQ, so that several workers share one join. */
  joinParts: number;
  /** Tries of a task that fails for a passing reason (the lake or a store unreachable), with exponential back-off. */
  attempts: number;
  /** A worker that has not renewed its task's lock for this long is taken for dead, and the task runs again elsewhere. */
  lockSeconds: number;
}

/** The budgets of every unit of work (see config-limits.ts for the defaults and README's table). */
export interface Limits {
  /** Entity rows in one /get-online-features request. */
  maxOnlineRows: number;
  /** Entity rows given as JSON in one /get-historical-features request. */
  maxHistoricalRows: number;
  /** Entity rows of any historical request, training set or consistency check, from any source (file, dataset, window). */
  maxEntityRows: number;
  /** Bytes in one JSON request body. */
  maxJsonBytes: number;
  /** Values (array items and object members) in one JSON body, counted while it arrives. */
  maxJsonElements: number;
  /** Bytes in one uploaded data file. */
  maxUploadBytes: number;
  /** Rows in one ingested file, and its decompressed bytes (Parquet: from its metadata, before reading). */
  maxIngestRows: number;
  maxIngestBytes: number;
  /** Rows in one /push. */
  maxPushRows: number;
  /** Bytes of one result file (historical features, a training set), watched while the engine writes it. */
  maxResultBytes: number;
  /** Wall-clock budgets: a request's engine work (historical, training sets, skew checks), an ingest, a job. */
  queryTimeoutSeconds: number;
  ingestTimeoutSeconds: number;
  jobTimeoutSeconds: number;
  /** A request body that stops arriving for this long is answered 408: slow clients cannot hold connections and memory. */
  idleTimeoutSeconds: number;
  /** On SIGTERM: requests in flight get most of this to finish; then running statements are interrupted and the server exits. */
  drainSeconds: number;
  /** /health answers degraded when a backend has not answered within this. */
  healthTimeoutMs: number;
}

/** Bounds for every DuckDB instance of a process (each takes a share: config-limits.ts). */
export interface DuckDbConfig {
  memoryLimitBytes: number;
  /** Spill space (DuckDB's max_temp_directory_size). */
  tempLimitBytes: number;
  /** Threads of each instance (absent: one per core). A worker beside a server takes fewer, leaving the server a core. */
  threads?: number;
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
  /** URL prefixes a skew-check request may name as its webhook; checks declared in the feature repo may name any. */
  webhookAllowlist: string[];
}

/** When the lake looks after itself: compaction, retention and GC as one round (`featurelake maintain`). */
export interface MaintenanceConfig {
  /** A worker runs a round this often (one worker of all per period); null: by command only. */
  everySeconds: number | null;
  /** GC's grace period (null: `limits.ingest_timeout_seconds` + 1 h). */
  graceSeconds: number | null;
}

/**
 * The whole validated configuration: the project file `featurelake.yaml` with environment
 * overrides applied. It is a class so that it doubles as its own injection token.
 */
export class AppConfig {
  repoDir!: string;
  project!: string;
  lake!: LakeLocation;
  /** Hash buckets of a feature view's offline rows in the lake, for views written from now on. */
  offlineBuckets!: number;
  /** Memory and spill bounds of the DuckDB instances; beyond memory, large operations spill to disk, beyond spill they fail. */
  duckdb!: DuckDbConfig;
  online!: OnlineStoreConfig;
  queue!: QueueConfig;
  /** Local working folder: lake object cache, scratch space, the embedded online store, the running server's address. Nothing in it is a source of truth but the embedded store. */
  stateDir!: string;
  registryRefreshSeconds!: number;
  limits!: Limits;
  monitoring!: MonitoringConfig;
  maintenance!: MaintenanceConfig;
  auth!: AuthConfig;
  /** The server's JSON log level. */
  logLevel!: LogLevelName;
  /** Tests only (`FEATURELAKE_KILL_AT`): the lake write at which this process kills itself (storage/kill-switch.ts). */
  killAt?: string;

  static of(values: AppConfig): AppConfig {
    return Object.assign(new AppConfig(), values);
  }
}
