import { parseDurationSeconds } from '../core/duration';
import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { ConfigInvalidError } from '../common/errors';
import { FieldIssue, FieldReader, formatIssue } from '../common/field-reader';
import { LOG_LEVELS, LogLevelName } from '../common/logging';
import { parseYaml } from '../common/yaml-file';
import { ApiKeyDef, isRole, isSha256Hex, parseApiKeyList, ROLES } from '../core/access';
import { isIdentifier } from '../core/identifiers';
import { AppConfig, LakeLocation, OnlineStoreConfig, QueueConfig } from './app-config';
import { readDuckDb, readLimits } from './config-limits';

export const PROJECT_FILE = 'featurelake.yaml';

/** Environment variables that override the project file; the README documents each one. */
export type ConfigEnv = Partial<Record<(typeof ENV_VARS)[number], string>>;
export const ENV_VARS = [
  'FEATURELAKE_LAKE_URI',
  'FEATURELAKE_S3_ENDPOINT',
  'FEATURELAKE_S3_REGION',
  'FEATURELAKE_S3_FORCE_PATH_STYLE',
  'FEATURELAKE_S3_TIMEOUT_MS',
  'FEATURELAKE_OFFLINE_BUCKETS',
  'FEATURELAKE_DUCKDB_MEMORY_LIMIT',
  'FEATURELAKE_DUCKDB_TEMP_LIMIT',
  'FEATURELAKE_DUCKDB_THREADS',
  'FEATURELAKE_QUERY_TIMEOUT_SECONDS',
  'FEATURELAKE_DRAIN_SECONDS',
  'FEATURELAKE_WEBHOOK_ALLOWLIST',
  'FEATURELAKE_ONLINE_TYPE',
  'FEATURELAKE_REDIS_URL',
  'FEATURELAKE_REDIS_CLUSTER',
  'FEATURELAKE_ONLINE_PATH',
  'FEATURELAKE_STATE_DIR',
  'FEATURELAKE_REGISTRY_REFRESH_SECONDS',
  'FEATURELAKE_LOG_FLUSH_SECONDS',
  'FEATURELAKE_API_KEYS',
  'FEATURELAKE_LOG_LEVEL',
  'FEATURELAKE_REDIS_TIMEOUT_MS',
  'FEATURELAKE_IDLE_TIMEOUT_SECONDS',
  'FEATURELAKE_QUEUE_URL',
  'FEATURELAKE_WORKER_CONCURRENCY',
  'FEATURELAKE_QUEUE_LOCK_SECONDS',
  'FEATURELAKE_MAINTENANCE_EVERY',
  'FEATURELAKE_MAINTENANCE_GRACE',
  'FEATURELAKE_KILL_AT',
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'AWS_REGION',
  'AWS_DEFAULT_REGION',
] as const;

/** Picks the variables we read out of an environment (so nothing else leaks into config). */
export function configEnv(env: NodeJS.ProcessEnv): ConfigEnv {
  const picked: ConfigEnv = {};
  for (const name of ENV_VARS) if (env[name] !== undefined && env[name] !== '') picked[name] = env[name];
  return picked;
}

/**
 * Loads `<repoDir>/featurelake.yaml`, applies environment overrides and validates the result.
 * Fails fast with every problem listed, naming the file and field, rather than at first use.
 */
export function loadConfig(repoDir: string, env: ConfigEnv): AppConfig {
  const dir = resolve(repoDir);
  const file = join(dir, PROJECT_FILE);
  const shown = displayPath(file);
  if (!existsSync(file)) {
    throw new ConfigInvalidError(`${shown}: not found; --repo must name a feature repo folder holding ${PROJECT_FILE}`);
  }
  const issues: FieldIssue[] = [];
  const parsed = parseYaml(shown, readFileSync(file, 'utf8'), issues);
  const root = parsed && FieldReader.root(parsed.source, parsed.value, issues);
  const config = root ? readConfig(root, dir, env) : undefined;
  if (issues.length > 0 || !config) {
    throw new ConfigInvalidError(issues.map(formatIssue).join('\n'), { issues });
  }
  return config;
}

function readConfig(root: FieldReader, dir: string, env: ConfigEnv): AppConfig | undefined {
  root.rejectUnknown(['project', 'lake', 'state_dir', 'offline', 'online', 'queue', 'duckdb', 'registry', 'monitoring', 'maintenance', 'limits', 'auth', 'log_level']);
  const project = root.string('project', true);
  if (project !== undefined && !isIdentifier(project)) root.issue('must be an identifier (letters, digits, _)', 'project');
  const lake = readLake(root, dir, env);
  const stateDir = resolve(dir, env.FEATURELAKE_STATE_DIR ?? root.string('state_dir') ?? '../.featurelake');
  const offline = root.object('offline');
  offline?.rejectUnknown(['buckets']);
  const buckets = Number(env.FEATURELAKE_OFFLINE_BUCKETS ?? offline?.scalarText('buckets') ?? 16);
  if (!(Number.isInteger(buckets) && buckets >= 1 && buckets <= 1024)) root.issue('must be a whole number from 1 to 1024', ['offline', 'buckets']);
  const duckdb = readDuckDb(root, env);
  const online = readOnline(root, dir, stateDir, env);
  const queue = online && readQueue(root, online, env);
  const registry = root.object('registry');
  registry?.rejectUnknown(['refresh_seconds']);
  const refresh = Number(env.FEATURELAKE_REGISTRY_REFRESH_SECONDS ?? registry?.scalarText('refresh_seconds') ?? 5);
  if (!(refresh > 0)) root.issue('must be a positive number of seconds', ['registry', 'refresh_seconds']);
  const monitoring = readMonitoring(root, env);
  const maintenance = readMaintenance(root, env);
  const limits = readLimits(root, env);
  const auth = readAuth(root, env);
  const logLevel = env.FEATURELAKE_LOG_LEVEL ?? root.string('log_level') ?? 'info';
  if (!(LOG_LEVELS as readonly string[]).includes(logLevel)) root.issue(`must be one of ${LOG_LEVELS.join(', ')}, got ${JSON.stringify(logLevel)}`, 'log_level');
  if (!project || !lake || !online || !queue) return undefined;
  return AppConfig.of({
    repoDir: dir,
    project,
    lake,
    offlineBuckets: buckets,
    duckdb,
    online,
    queue,
    stateDir,
    registryRefreshSeconds: refresh,
    limits,
    monitoring,
    maintenance,
    auth,
    logLevel: logLevel as LogLevelName,
    ...(env.FEATURELAKE_KILL_AT ? { killAt: env.FEATURELAKE_KILL_AT } : {}),
  });
}

/** Reads a positive number from the environment or a config section, reporting the field when it is not. */
function positive(root: FieldReader, section: FieldReader | undefined, path: string[], fallback: number, raw?: string): number {
  const value = Number(raw ?? section?.scalarText(path[path.length - 1]) ?? fallback);
  if (!(value > 0)) root.issue('must be a positive number', path);
  return value;
}

/** Keys from `auth.keys` in the file and `FEATURELAKE_API_KEYS`; both only ever hold SHA-256 digests. */
function readAuth(root: FieldReader, env: ConfigEnv): AppConfig['auth'] {
  const section = root.object('auth');
  section?.rejectUnknown(['keys']);
  const keys: ApiKeyDef[] = [];
  section?.objectList('keys').forEach((entry) => {
    entry.rejectUnknown(['name', 'role', 'sha256']);
    const name = entry.string('name', true);
    const role = entry.string('role', true);
    const sha256 = entry.string('sha256', true)?.toLowerCase();
    if (role !== undefined && !isRole(role)) entry.issue(`must be one of ${ROLES.join(', ')}, got ${JSON.stringify(role)}`, 'role');
    if (sha256 !== undefined && !isSha256Hex(sha256)) entry.issue('must be the 64 hex digits of the key\'s SHA-256 (`featurelake keys create` prints it); never the key itself', 'sha256');
    if (name && isRole(role) && isSha256Hex(sha256)) keys.push({ name, role, sha256 });
  });
  if (env.FEATURELAKE_API_KEYS) {
    const parsed = parseApiKeyList(env.FEATURELAKE_API_KEYS);
    parsed.problems.forEach((problem) => root.issue(`FEATURELAKE_API_KEYS: ${problem}`, 'auth'));
    keys.push(...parsed.keys);
  }
  const names = keys.map((k) => k.name);
  const repeated = names.filter((n, i) => names.indexOf(n) !== i);
  if (repeated.length > 0) root.issue(`key names must be unique; repeated: ${[...new Set(repeated)].join(', ')}`, ['auth', 'keys']);
  return { keys };
}

function readMonitoring(root: FieldReader, env: ConfigEnv): AppConfig['monitoring'] {
  const section = root.object('monitoring');
  section?.rejectUnknown(['log_flush_seconds', 'log_flush_rows', 'log_buffer_rows', 'webhook_allowlist']);
  const number = (field: string, fallback: number, raw?: string) => positive(root, section, ['monitoring', field], fallback, raw);
  const allowlist = env.FEATURELAKE_WEBHOOK_ALLOWLIST?.split(',').map((u) => u.trim()).filter(Boolean) ?? section?.stringList('webhook_allowlist') ?? [];
  for (const prefix of allowlist) {
    if (!/^https?:\/\/[^/\s]+\/\S*$/.test(prefix)) root.issue(`entries must be http(s) URL prefixes ending in a path (e.g. https://hooks.example.com/), got ${JSON.stringify(prefix)}`, ['monitoring', 'webhook_allowlist']);
  }
  return {
    logFlushSeconds: number('log_flush_seconds', 30, env.FEATURELAKE_LOG_FLUSH_SECONDS),
    logFlushRows: number('log_flush_rows', 10_000),
    logBufferRows: number('log_buffer_rows', 200_000),
    webhookAllowlist: allowlist,
  };
}

/** `maintenance: { every: 6h, grace: 2h }`: the schedule of compaction, retention and GC (absent: by command only). */
function readMaintenance(root: FieldReader, env: ConfigEnv): AppConfig['maintenance'] {
  const section = root.object('maintenance');
  section?.rejectUnknown(['every', 'grace']);
  const duration = (field: string, raw: string | undefined, min: number): number | null => {
    const text = raw ?? section?.scalarText(field);
    if (text === undefined || text === '') return null;
    const seconds = parseDurationSeconds(text);
    if (seconds === null || seconds < min) root.issue(`must be a duration of ${min}s or more (a whole number followed by s, m, h, d or w, e.g. 6h), got ${JSON.stringify(text)}`, ['maintenance', field]);
    return seconds;
  };
  return { everySeconds: duration('every', env.FEATURELAKE_MAINTENANCE_EVERY, 1), graceSeconds: duration('grace', env.FEATURELAKE_MAINTENANCE_GRACE, 0) };
}

function readLake(root: FieldReader, dir: string, env: ConfigEnv): LakeLocation | undefined {
  const lake = root.object('lake', !env.FEATURELAKE_LAKE_URI);
  lake?.rejectUnknown(['uri', 's3']);
  const uri = env.FEATURELAKE_LAKE_URI ?? lake?.string('uri', true);
  if (!uri) return undefined;
  if (uri.startsWith('file://')) {
    const path = uri.slice('file://'.length);
    return { kind: 'local', uri, rootDir: isAbsolute(path) ? path : resolve(dir, path) };
  }
  const s3 = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:\/(.*))?$/.exec(uri);
  if (!s3) {
    (lake ?? root).issue(`must be file://PATH or s3://BUCKET/PREFIX, got ${JSON.stringify(uri)}`, lake ? 'uri' : 'lake');
    return undefined;
  }
  const options = lake?.object('s3');
  options?.rejectUnknown(['endpoint', 'region', 'force_path_style', 'timeout_ms']);
  const endpoint = env.FEATURELAKE_S3_ENDPOINT ?? options?.string('endpoint');
  const forcePathStyle = env.FEATURELAKE_S3_FORCE_PATH_STYLE
    ? env.FEATURELAKE_S3_FORCE_PATH_STYLE === 'true'
    : (options?.boolean('force_path_style', endpoint !== undefined) ?? endpoint !== undefined);
  return {
    kind: 's3',
    uri,
    bucket: s3[1],
    prefix: (s3[2] ?? '').replace(/\/+$/, ''),
    endpoint,
    region: env.FEATURELAKE_S3_REGION ?? options?.string('region') ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? 'us-east-1',
    forcePathStyle,
    timeoutMs: positive(root, options, ['lake', 's3', 'timeout_ms'], 30_000, env.FEATURELAKE_S3_TIMEOUT_MS),
    credentials:
      env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY
        ? { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY, sessionToken: env.AWS_SESSION_TOKEN }
        : undefined,
  };
}

function readOnline(root: FieldReader, dir: string, stateDir: string, env: ConfigEnv): OnlineStoreConfig | undefined {
  const online = root.object('online');
  online?.rejectUnknown(['type', 'url', 'path', 'cluster', 'timeout_ms']);
  const type = env.FEATURELAKE_ONLINE_TYPE ?? online?.string('type') ?? 'embedded';
  if (type === 'redis') {
    const url = env.FEATURELAKE_REDIS_URL ?? online?.string('url') ?? 'redis://127.0.0.1:6379';
    if (!url.split(',').every((u) => /^rediss?:\/\//.test(u.trim()))) {
      root.issue(`must be a redis:// or rediss:// URL (several, comma-separated, for a cluster), got ${JSON.stringify(url)}`, ['online', 'url']);
      return undefined;
    }
    const cluster = env.FEATURELAKE_REDIS_CLUSTER ? env.FEATURELAKE_REDIS_CLUSTER === 'true' : (online?.boolean('cluster', false) ?? false);
    const timeoutMs = positive(root, online, ['online', 'timeout_ms'], 1000, env.FEATURELAKE_REDIS_TIMEOUT_MS);
    return { type, url, cluster, timeoutMs };
  }
  if (type === 'embedded') {
    const path = env.FEATURELAKE_ONLINE_PATH ?? online?.string('path');
    return { type, path: path ? resolve(dir, path) : join(stateDir, 'online.duckdb') };
  }
  root.issue(`must be embedded or redis, got ${JSON.stringify(type)}`, ['online', 'type']);
  return undefined;
}

/**
 * Where jobs queue: BullMQ on Redis (`queue.url`; by default the online store's Redis when it
 * is a single node), or `local` — in this process, no Redis needed (the embedded default).
 */
function readQueue(root: FieldReader, online: OnlineStoreConfig, env: ConfigEnv): QueueConfig | undefined {
  const section = root.object('queue');
  section?.rejectUnknown(['url', 'concurrency', 'ranges_per_view', 'join_parts', 'attempts', 'lock_seconds']);
  const fallback = online.type === 'redis' && !online.cluster && !online.url.includes(',') ? online.url : 'local';
  const url = env.FEATURELAKE_QUEUE_URL ?? section?.string('url') ?? fallback;
  if (url !== 'local' && !/^rediss?:\/\/[^,\s]+$/.test(url)) {
    root.issue(`must be local or one redis:// or rediss:// URL (BullMQ needs a single node), got ${JSON.stringify(url)}`, ['queue', 'url']);
    return undefined;
  }
  if (url !== 'local' && online.type === 'embedded') {
    root.issue('a Redis queue needs an online store that workers on other processes can write: online.type: redis (the embedded store is one file with one writer)', ['queue', 'url']);
    return undefined;
  }
  const whole = (field: string, fallbackValue: number, max: number, raw?: string) => {
    const value = Number(raw ?? section?.scalarText(field) ?? fallbackValue);
    if (!(Number.isInteger(value) && value >= 1 && value <= max)) root.issue(`must be a whole number from 1 to ${max}`, ['queue', field]);
    return value;
  };
  return {
    url,
    concurrency: whole('concurrency', 2, 64, env.FEATURELAKE_WORKER_CONCURRENCY),
    rangesPerView: whole('ranges_per_view', 4, 1024),
    joinParts: whole('join_parts', 4, 1024),
    attempts: whole('attempts', 3, 20),
    lockSeconds: positive(root, section, ['queue', 'lock_seconds'], 30, env.FEATURELAKE_QUEUE_LOCK_SECONDS),
  };
}

/** Paths in messages are shown relative to the working folder, as the user typed them. */
export function displayPath(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel && !rel.startsWith('..') ? rel : path;
}
