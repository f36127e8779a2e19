import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configEnv, loadConfig } from './load-config';

describe('loadConfig', () => {
  let repo: string;
  const write = (text: string) => writeFileSync(join(repo, 'featurelake.yaml'), text);

  beforeEach(() => (repo = mkdtempSync(join(tmpdir(), 'fl-config-'))));
  afterEach(() => rmSync(repo, { recursive: true, force: true }));

  it('reads the example project file, resolving paths against the repo folder', () => {
    const config = loadConfig(join(__dirname, '../../feature-repo'), {});
    const root = join(__dirname, '../..');
    expect(config).toMatchObject({
      project: 'flights',
      lake: { kind: 'local', rootDir: join(root, '.featurelake/lake') },
      offlineBuckets: 16,
      online: { type: 'embedded', path: join(root, '.featurelake/online.duckdb') },
      stateDir: join(root, '.featurelake'),
    });
  });

  it('lets the environment override the file', () => {
    write('project: p\nlake:\n  uri: file://lake\nonline:\n  type: embedded\n');
    const config = loadConfig(
      repo,
      configEnv({
        FEATURELAKE_LAKE_URI: 's3://bucket/some/prefix/',
        FEATURELAKE_S3_ENDPOINT: 'http://127.0.0.1:9000',
        AWS_ACCESS_KEY_ID: 'id',
        AWS_SECRET_ACCESS_KEY: 'secret',
        FEATURELAKE_ONLINE_TYPE: 'redis',
        FEATURELAKE_REDIS_URL: 'redis://10.0.0.1:6380',
        UNRELATED: 'ignored',
      }),
    );
    expect(config.lake).toMatchObject({
      kind: 's3',
      bucket: 'bucket',
      prefix: 'some/prefix',
      endpoint: 'http://127.0.0.1:9000',
      forcePathStyle: true,
      region: 'us-east-1',
      credentials: { accessKeyId: 'id', secretAccessKey: 'secret' },
    });
    expect(config.online).toEqual({ type: 'redis', url: 'redis://10.0.0.1:6380', cluster: false, timeoutMs: 1000 });
  });

  it('reads S3 options and a Redis online store from the file', () => {
    write('project: p\nlake:\n  uri: s3://bkt\n  s3: { endpoint: "http://minio:9000", region: eu-west-1, force_path_style: false }\nonline: { type: redis, url: "redis://r:6379", timeout_ms: 250 }\n');
    const config = loadConfig(repo, {});
    expect(config.lake).toMatchObject({ kind: 's3', bucket: 'bkt', prefix: '', region: 'eu-west-1', forcePathStyle: false });
    expect(config.online).toEqual({ type: 'redis', url: 'redis://r:6379', cluster: false, timeoutMs: 250 });
  });

  it('takes a Redis Cluster as comma-separated seed nodes', () => {
    write('project: p\nlake:\n  uri: file://lake\nonline: { type: redis, url: "redis://a:7000, redis://b:7001", cluster: true }\n');
    expect(loadConfig(repo, {}).online).toEqual({ type: 'redis', url: 'redis://a:7000, redis://b:7001', cluster: true, timeoutMs: 1000 });
    expect(loadConfig(repo, { FEATURELAKE_REDIS_CLUSTER: 'false' }).online).toMatchObject({ cluster: false });
  });

  it('queues jobs locally on the embedded default, on the online store\'s Redis when it has one, and refuses a Redis queue beside the embedded store', () => {
    write('project: p\nlake:\n  uri: file://lake\n');
    expect(loadConfig(repo, {}).queue).toEqual({ url: 'local', concurrency: 2, rangesPerView: 4, joinParts: 4, attempts: 3, lockSeconds: 30 });
    write('project: p\nlake:\n  uri: file://lake\nonline: { type: redis, url: "redis://r:6379" }\nqueue: { concurrency: 4, lock_seconds: 5 }\n');
    expect(loadConfig(repo, {}).queue).toMatchObject({ url: 'redis://r:6379', concurrency: 4, lockSeconds: 5 });
    expect(loadConfig(repo, { FEATURELAKE_QUEUE_URL: 'redis://q:6380', FEATURELAKE_WORKER_CONCURRENCY: '1' }).queue).toMatchObject({ url: 'redis://q:6380', concurrency: 1 });
    write('project: p\nlake:\n  uri: file://lake\nqueue: { url: "redis://q:6380" }\n');
    expect(() => loadConfig(repo, {})).toThrow(/queue\.url: a Redis queue needs an online store that workers on other processes can write/);
    write('project: p\nlake:\n  uri: file://lake\nqueue: { concurrency: 0 }\nduckdb: { threads: 0 }\n');
    expect(() => loadConfig(repo, {})).toThrow(/queue\.concurrency: must be a whole number from 1 to 64[\s\S]*duckdb\.threads: must be a whole number from 1 to 256|duckdb\.threads: must be a whole number from 1 to 256[\s\S]*queue\.concurrency/);
  });

  it('lists every problem at once, naming file and field', () => {
    write('project: my-project\nlake:\n  uri: ftp://x\nonline:\n  type: memcached\nsurprise: 1\n');
    const error = (() => {
      try {
        loadConfig(repo, {});
      } catch (e) {
        return e as { code: string; message: string };
      }
    })();
    expect(error?.code).toBe('CONFIG_INVALID');
    const lines = error!.message.split('\n').map((l) => l.replace(/^.*featurelake\.yaml: /, ''));
    expect(lines.sort()).toEqual([
      'lake.uri: must be file://PATH or s3://BUCKET/PREFIX, got "ftp://x" (line 3)',
      'online.type: must be embedded or redis, got "memcached" (line 5)',
      'project: must be an identifier (letters, digits, _) (line 1)',
      'surprise: unknown field (allowed: project, lake, state_dir, offline, online, queue, duckdb, registry, monitoring, maintenance, limits, auth, log_level) (line 6)',
    ]);
  });

  it('has no API keys by default, so the embedded setup needs none', () => {
    write('project: p\nlake:\n  uri: file://lake\n');
    expect(loadConfig(repo, {}).auth).toEqual({ keys: [] });
  });

  it('takes API key digests from the file and from FEATURELAKE_API_KEYS', () => {
    const digest = 'ab'.repeat(32);
    write(`project: p\nlake:\n  uri: file://lake\nauth:\n  keys:\n    - { name: ops, role: admin, sha256: "${digest.toUpperCase()}" }\n`);
    expect(loadConfig(repo, { FEATURELAKE_API_KEYS: `serving:reader:${'cd'.repeat(32)}` }).auth.keys).toEqual([
      { name: 'ops', role: 'admin', sha256: digest },
      { name: 'serving', role: 'reader', sha256: 'cd'.repeat(32) },
    ]);
  });

  it('rejects a key that is not a digest, an unknown role and repeated names, without echoing secrets', () => {
    write('project: p\nlake:\n  uri: file://lake\nauth:\n  keys:\n    - { name: a, role: root, sha256: my-plain-secret }\n');
    expect(() => loadConfig(repo, { FEATURELAKE_API_KEYS: `a:reader:${'0'.repeat(64)},a:writer:${'1'.repeat(64)}` })).toThrow(
      expect.objectContaining({
        message: expect.stringMatching(/auth\.keys\[0\]\.role: must be one of reader, writer, admin, got "root"[^]*auth\.keys\[0\]\.sha256: must be the 64 hex digits[^]*auth\.keys: key names must be unique; repeated: a/),
      }),
    );
    expect(() => loadConfig(repo, {})).toThrow(expect.objectContaining({ message: expect.not.stringContaining('my-plain-secret') }));
  });

  it('reads limits and S3 timeouts, rejecting non-positive values by field', () => {
    write('project: p\nlake:\n  uri: s3://bkt\n  s3: { timeout_ms: 0 }\nlimits: { max_online_rows: 50, idle_timeout_seconds: -1 }\n');
    expect(() => loadConfig(repo, {})).toThrow(/lake\.s3\.timeout_ms: must be a positive number[^]*limits\.idle_timeout_seconds: must be a positive number/);
    const config = loadConfig(repo, { FEATURELAKE_S3_TIMEOUT_MS: '2000', FEATURELAKE_IDLE_TIMEOUT_SECONDS: '9' });
    expect(config.limits).toMatchObject({ maxOnlineRows: 50, idleTimeoutSeconds: 9 });
    expect(config.lake).toMatchObject({ timeoutMs: 2000 });
  });

  it('reads the maintenance schedule and grace, by command only when absent', () => {
    write('project: p\nlake:\n  uri: file://./lake\n');
    expect(loadConfig(repo, {}).maintenance).toEqual({ everySeconds: null, graceSeconds: null });
    write('project: p\nlake:\n  uri: file://./lake\nmaintenance: { every: 6h, grace: 0s }\n');
    expect(loadConfig(repo, {}).maintenance).toEqual({ everySeconds: 21_600, graceSeconds: 0 });
    expect(loadConfig(repo, { FEATURELAKE_MAINTENANCE_EVERY: '1d', FEATURELAKE_MAINTENANCE_GRACE: '2h' }).maintenance).toEqual({ everySeconds: 86_400, graceSeconds: 7200 });
    write('project: p\nlake:\n  uri: file://./lake\nmaintenance: { every: 0s, grace: soon, when: 3 }\n');
    expect(() => loadConfig(repo, {})).toThrow(/maintenance\.when: unknown field[^]*maintenance\.every: must be a duration of 1s or more[^]*maintenance\.grace: must be a duration of 0s or more .*got "soon"/);
  });

  it('has a documented default for every budget, and reads sizes with units', () => {
    write('project: p\nlake:\n  uri: file://lake\nlimits: { max_ingest_bytes: 2GiB, max_result_bytes: 1000000, max_entity_rows: 5 }\nduckdb: { memory_limit: 512MiB }\n');
    const config = loadConfig(repo, { FEATURELAKE_DUCKDB_TEMP_LIMIT: '2GB', FEATURELAKE_QUERY_TIMEOUT_SECONDS: '30' });
    expect(config.limits).toMatchObject({ maxIngestBytes: 2 * 2 ** 30, maxResultBytes: 1e6, maxEntityRows: 5, queryTimeoutSeconds: 30, maxJsonElements: 2_000_000, drainSeconds: 25 });
    expect(config.duckdb).toEqual({ memoryLimitBytes: 512 * 2 ** 20, tempLimitBytes: 2e9 });
    expect(Object.values(config.limits).every((v) => typeof v === 'number' && v > 0)).toBe(true);
  });

  it('rejects sizes it cannot read, naming the field', () => {
    write('project: p\nlake:\n  uri: file://lake\nlimits: { max_ingest_bytes: lots }\nduckdb: { memory_limit: 1XB }\nmonitoring: { webhook_allowlist: [ftp://x] }\n');
    expect(() => loadConfig(repo, {})).toThrow(/duckdb\.memory_limit: must be a size[^]*monitoring\.webhook_allowlist: entries must be http\(s\) URL prefixes[^]*limits\.max_ingest_bytes: must be a size/);
  });

  it('says where it looked when there is no project file', () => {
    expect(() => loadConfig(join(repo, 'missing'), {})).toThrow(/featurelake\.yaml: not found; --repo must name a feature repo folder/);
  });
});
