import { FieldReader } from '../common/field-reader';
import { formatSize, parseSize } from '../common/size';
import { AppConfig, DuckDbConfig, Limits } from './app-config';
import type { ConfigEnv } from './load-config';

/**
 * Every budget a unit of work has, with its default. The README's security section lists the
 * same table; a request or job that goes over one is refused with a code naming the field.
 */
export const LIMIT_DEFAULTS = {
  max_online_rows: 10_000,
  max_historical_rows: 1_000_000,
  max_entity_rows: 10_000_000,
  max_json_bytes: 64 * 2 ** 20,
  max_json_elements: 2_000_000,
  max_upload_bytes: 4 * 2 ** 30,
  max_ingest_rows: 100_000_000,
  max_ingest_bytes: 8 * 2 ** 30,
  max_push_rows: 100_000,
  max_result_bytes: 8 * 2 ** 30,
  query_timeout_seconds: 600,
  ingest_timeout_seconds: 3600,
  job_timeout_seconds: 6 * 3600,
  idle_timeout_seconds: 30,
  drain_seconds: 25,
  health_timeout_ms: 2000,
} as const;

type LimitField = keyof typeof LIMIT_DEFAULTS;

/** Fields that hold bytes: a number, or a size such as 512MiB. */
const SIZE_FIELDS: readonly LimitField[] = ['max_json_bytes', 'max_upload_bytes', 'max_ingest_bytes', 'max_result_bytes'];

const ENV_OVERRIDES: Partial<Record<LimitField, keyof ConfigEnv>> = {
  idle_timeout_seconds: 'FEATURELAKE_IDLE_TIMEOUT_SECONDS',
  query_timeout_seconds: 'FEATURELAKE_QUERY_TIMEOUT_SECONDS',
  drain_seconds: 'FEATURELAKE_DRAIN_SECONDS',
};

export function readLimits(root: FieldReader, env: ConfigEnv): Limits {
  const section = root.object('limits');
  section?.rejectUnknown(Object.keys(LIMIT_DEFAULTS));
  const value = (field: LimitField): number => {
    const variable = ENV_OVERRIDES[field];
    const raw = (variable && env[variable]) ?? section?.value[field] ?? LIMIT_DEFAULTS[field];
    const parsed = SIZE_FIELDS.includes(field) ? parseSize(raw as string | number) : typeof raw === 'number' || typeof raw === 'string' ? Number(raw) : NaN;
    if (parsed === null || !(parsed > 0)) {
      root.issue(SIZE_FIELDS.includes(field) ? `must be a size such as 64MiB or a number of bytes, got ${JSON.stringify(raw)}` : `must be a positive number, got ${JSON.stringify(raw)}`, ['limits', field]);
      return LIMIT_DEFAULTS[field];
    }
    return parsed;
  };
  return Object.fromEntries(Object.entries(LIMIT_PROPERTIES).map(([field, property]) => [property, value(field as LimitField)])) as unknown as Limits;
}

/** Each config field's name in Limits. */
const LIMIT_PROPERTIES: Record<LimitField, keyof Limits> = {
  max_online_rows: 'maxOnlineRows',
  max_historical_rows: 'maxHistoricalRows',
  max_entity_rows: 'maxEntityRows',
  max_json_bytes: 'maxJsonBytes',
  max_json_elements: 'maxJsonElements',
  max_upload_bytes: 'maxUploadBytes',
  max_ingest_rows: 'maxIngestRows',
  max_ingest_bytes: 'maxIngestBytes',
  max_push_rows: 'maxPushRows',
  max_result_bytes: 'maxResultBytes',
  query_timeout_seconds: 'queryTimeoutSeconds',
  ingest_timeout_seconds: 'ingestTimeoutSeconds',
  job_timeout_seconds: 'jobTimeoutSeconds',
  idle_timeout_seconds: 'idleTimeoutSeconds',
  drain_seconds: 'drainSeconds',
  health_timeout_ms: 'healthTimeoutMs',
};

/** Every limit at its default (tests and tools that build a config by hand). */
export function defaultLimits(): Limits {
  return Object.fromEntries(Object.entries(LIMIT_PROPERTIES).map(([field, property]) => [property, LIMIT_DEFAULTS[field as LimitField]])) as unknown as Limits;
}

/** DuckDB's own default is 80% of RAM and all free disk, which lets one big query take the machine. */
const DUCKDB_DEFAULTS = { memory_limit: '1GB', temp_limit: '16GB' };

export function readDuckDb(root: FieldReader, env: ConfigEnv): DuckDbConfig {
  const section = root.object('duckdb');
  section?.rejectUnknown(['memory_limit', 'temp_limit', 'threads']);
  const size = (field: 'memory_limit' | 'temp_limit', raw: unknown): number => {
    const bytes = parseSize(raw as string | number);
    if (bytes === null) {
      root.issue(`must be a size such as 512MB or 2GB, got ${JSON.stringify(raw)}`, ['duckdb', field]);
      return parseSize(DUCKDB_DEFAULTS[field])!;
    }
    return bytes;
  };
  const rawThreads = env.FEATURELAKE_DUCKDB_THREADS ?? section?.scalarText('threads');
  const threads = rawThreads === undefined ? undefined : Number(rawThreads);
  if (threads !== undefined && !(Number.isInteger(threads) && threads >= 1 && threads <= 256)) root.issue(`must be a whole number from 1 to 256, got ${JSON.stringify(rawThreads)}`, ['duckdb', 'threads']);
  return {
    ...(threads !== undefined ? { threads } : {}),
    memoryLimitBytes: size('memory_limit', env.FEATURELAKE_DUCKDB_MEMORY_LIMIT ?? section?.value.memory_limit ?? DUCKDB_DEFAULTS.memory_limit),
    tempLimitBytes: size('temp_limit', env.FEATURELAKE_DUCKDB_TEMP_LIMIT ?? section?.value.temp_limit ?? DUCKDB_DEFAULTS.temp_limit),
  };
}

/**
 * The DuckDB instances of a process, and the share of `duckdb.memory_limit` and
 * `duckdb.temp_limit` each may use. The offline store gets the whole limit; helpers that stream
 * (ingest conversion, result encoding, feature-log writing) get less. A process therefore never
 * holds more than SHARE_TOTAL × memory_limit in DuckDB, whatever its requests do.
 */
export const DUCKDB_SHARES = {
  offline: 1,
  skew: 0.5,
  online: 0.5,
  ingest: 0.25,
  results: 0.25,
  'feature-log': 0.125,
} as const;

export type DuckDbInstanceName = keyof typeof DUCKDB_SHARES;

/**
 * The most DuckDB memory and spill space one process of this configuration can hold: the sum
 * of its instances' shares (the embedded online store exists only when it is configured).
 */
export function duckDbBudget(config: Pick<AppConfig, 'duckdb' | 'online'>): DuckDbInstanceLimits {
  const names = (Object.keys(DUCKDB_SHARES) as DuckDbInstanceName[]).filter((n) => n !== 'online' || config.online.type === 'embedded');
  const total = names.reduce((sum, n) => sum + DUCKDB_SHARES[n], 0);
  return { memoryLimitBytes: Math.floor(config.duckdb.memoryLimitBytes * total), tempLimitBytes: Math.floor(config.duckdb.tempLimitBytes * total) };
}

export interface DuckDbInstanceLimits {
  memoryLimitBytes: number;
  tempLimitBytes: number;
}

export function duckDbInstanceLimits(config: Pick<AppConfig, 'duckdb'>, name: DuckDbInstanceName): DuckDbInstanceLimits & { threads?: number } {
  const share = DUCKDB_SHARES[name];
  return {
    ...(config.duckdb.threads ? { threads: config.duckdb.threads } : {}),
    memoryLimitBytes: Math.floor(config.duckdb.memoryLimitBytes * share),
    tempLimitBytes: Math.floor(config.duckdb.tempLimitBytes * share),
  };
}

/** How a limit reads in a message: `limits.max_entity_rows (10,000,000)`. */
export function describeLimit(field: string, value: number, unit: 'bytes' | 'count' | 'seconds' = 'count'): string {
  const shown = unit === 'bytes' ? formatSize(value) : unit === 'seconds' ? `${value} s` : value.toLocaleString('en-US');
  return `${field} (${shown})`;
}
