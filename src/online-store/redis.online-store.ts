import Redis, { Cluster } from 'ioredis';
import { OnlineStoreUnavailableError } from '../common/errors';
import { ResolvedView } from '../core/catalog';
import { decodeRecord, encodeRecord, expiresAtMs, ORDER_PREFIX_LENGTH, OnlineRecord } from '../core/online-record';
import { epochKey, OnlineReadRequest, OnlineStore, projectKeyPrefixes, recordKey } from './online-store';

const KEY_PREFIX = 'fl:';

/**
 * Compare-and-set for a batch of keys, atomic per key on the server: a stored value whose
 * ordering prefix (event time, created time) is greater than the new one's is kept. Only the
 * prefix is read (GETRANGE; a missing key reads as ''), which halves the script's cost. ARGV
 * holds the values, then each key's expiry (epoch ms, 0 for none), refreshed on every write.
 */
const WRITE_NEWER = `
local n = #KEYS
local written = 0
for i = 1, n do
  local value = ARGV[i]
  local old = redis.call('GETRANGE', KEYS[i], 0, ${ORDER_PREFIX_LENGTH - 1})
  if old == '' or old <= string.sub(value, 1, ${ORDER_PREFIX_LENGTH}) then
    local expireAt = tonumber(ARGV[n + i])
    if expireAt > 0 then
      redis.call('SET', KEYS[i], value, 'PXAT', expireAt)
    else
      redis.call('SET', KEYS[i], value)
    end
    written = written + 1
  end
end
return written`;

/**
 * Keys per script call on a single node (a cluster takes one key per call: keys of a call share
 * a slot). A script holds Redis for its whole run, so this bounds how long a materialization's
 * write delays a read beside it: 1,000 keys made reads' p99 2.3x slower during a job, 200
 * made it 1.4x (bench/serving-under-job.js), and write throughput did not drop.
 */
const WRITE_BATCH = 200;

export interface RedisTarget {
  /** One URL, or (cluster) several comma-separated seed nodes. */
  url: string;
  cluster: boolean;
  /** Milliseconds a command may wait for its answer (default 1000). */
  timeoutMs?: number;
}

/**
 * Reconnect quickly and keep trying forever: a Redis that comes back is used again within half a
 * second, without a restart of the service.
 */
const reconnectDelay = (attempt: number) => Math.min(attempt * 50, 500);

type Client = (Redis | Cluster) & {
  writeNewer(numKeys: number, ...keysAndArgs: (string | number)[]): Promise<number>;
  /** The same script with exactly one key, first: auto-pipelining routes a call by its first argument. */
  writeNewerOne(key: string, value: string, expireAt: number): Promise<number>;
};

/**
 * Online store on Redis, a single node or a Redis Cluster: one string per (view, entity).
 * A read is one round trip: a single MGET on one node; on a cluster, one GET per key issued
 * together, which the client's auto-pipelining sends as one batch per node.
 */
export class RedisOnlineStore extends OnlineStore {
  private readonly redis: Client;
  private readonly commandTimeoutMs: number;
  private connecting?: Promise<void>;

  constructor(
    private readonly target: RedisTarget,
    private readonly onError: (operation: string) => void = () => undefined,
  ) {
    super();
    // Auto-pipelining batches the commands of concurrent requests into one write: under load,
    // one syscall per request to Redis was the largest single cost of serving (bench/README.md).
    // While Redis is down a command waits at most `timeoutMs` (then ONLINE_STORE_UNAVAILABLE, 503):
    // a serving caller gets a fast, clear failure instead of a request that hangs.
    const commandTimeout = target.timeoutMs ?? 1000;
    this.commandTimeoutMs = commandTimeout;
    const connection = { maxRetriesPerRequest: 2, commandTimeout, connectTimeout: Math.max(commandTimeout, 1000), retryStrategy: reconnectDelay };
    const options = { lazyConnect: true, enableOfflineQueue: true, enableAutoPipelining: true };
    this.redis = (
      target.cluster
        ? new Redis.Cluster(target.url.split(',').map((u) => u.trim()), { ...options, clusterRetryStrategy: reconnectDelay, redisOptions: connection })
        : new Redis(target.url, { ...options, ...connection })
    ) as Client;
    this.redis.defineCommand('writeNewer', { lua: WRITE_NEWER });
    this.redis.defineCommand('writeNewerOne', { lua: WRITE_NEWER, numberOfKeys: 1 });
    this.redis.on('error', () => undefined); // surfaced per command as ONLINE_STORE_UNAVAILABLE
  }

  async write(project: string, view: ResolvedView, records: OnlineRecord[]): Promise<void> {
    // The commands are issued inside call(), once connected: a command created earlier could fail
    // while nothing awaits it yet (an unhandled rejection when Redis is unreachable).
    if (this.target.cluster) {
      await this.call('write', () =>
        Promise.all(records.map((r) => this.redis.writeNewerOne(KEY_PREFIX + recordKey(project, view, r.entityKey), encodeRecord(r), expiresAtMs(r, view.def.ttlSeconds)))),
      );
      return;
    }
    await this.call('write', () => {
      const calls: Promise<number>[] = [];
      for (let i = 0; i < records.length; i += WRITE_BATCH) {
        const slice = records.slice(i, i + WRITE_BATCH);
        const keys = slice.map((r) => KEY_PREFIX + recordKey(project, view, r.entityKey));
        const values = slice.map(encodeRecord);
        const expiries = slice.map((r) => expiresAtMs(r, view.def.ttlSeconds));
        calls.push(this.redis.writeNewer(keys.length, ...keys, ...values, ...expiries));
      }
      return Promise.all(calls);
    });
  }

  async read(project: string, requests: OnlineReadRequest[]): Promise<(OnlineRecord | null)[][]> {
    const keys: string[] = [];
    for (const { view, entityKeys } of requests) {
      for (const key of entityKeys) if (key !== null) keys.push(KEY_PREFIX + recordKey(project, view, key));
    }
    const values = keys.length === 0 ? [] : await this.call('read', () => this.fetch(keys));
    let next = 0;
    return requests.map(({ view, entityKeys }) => {
      const types = view.def.features.map((f) => f.type);
      return entityKeys.map((key) => {
        if (key === null) return null;
        const text = values[next++];
        return text ? decodeRecord(key, text, types) : null;
      });
    });
  }

  async readEpoch(project: string, view: ResolvedView): Promise<number | null> {
    const value = await this.call('read', () => this.redis.get(KEY_PREFIX + epochKey(project, view)));
    return value === null ? null : Number(value);
  }

  async writeEpoch(project: string, view: ResolvedView, epoch: number): Promise<void> {
    await this.call('write', () => this.redis.set(KEY_PREFIX + epochKey(project, view), String(epoch)));
  }

  /**
   * SCANs each node (each master of a cluster) for the project's keys and UNLINKs them a batch
   * at a time, so a large project never blocks Redis; each command has the usual deadline.
   */
  async deleteProject(project: string): Promise<number> {
    const nodes = await this.call('delete', async () => (this.target.cluster ? (this.redis as Cluster).nodes('master') : [this.redis as Redis]));
    let removed = 0;
    for (const node of nodes) {
      for (const prefix of projectKeyPrefixes(project)) {
        let cursor = '0';
        do {
          const [next, keys] = await this.call('delete', () => node.scan(cursor, 'MATCH', `${KEY_PREFIX}${prefix}*`, 'COUNT', 1000));
          cursor = next;
          // A cluster node refuses one UNLINK across slots: one key per command there.
          if (keys.length > 0) {
            removed += await this.call('delete', async () =>
              this.target.cluster ? (await Promise.all(keys.map((k) => node.unlink(k)))).reduce((a, b) => a + b, 0) : node.unlink(...keys),
            );
          }
        } while (cursor !== '0');
      }
    }
    return removed;
  }

  async ping(): Promise<void> {
    await this.call('ping', () => (this.target.cluster ? (this.redis as Cluster).cluster('INFO') : this.redis.ping()));
  }

  async close(): Promise<void> {
    if (this.redis.status === 'ready') await this.redis.quit().catch(() => undefined);
    this.redis.disconnect();
  }

  /** MGET on one node; on a cluster (where MGET cannot span slots) GETs issued in one tick. */
  private fetch(keys: string[]): Promise<(string | null)[]> {
    if (!this.target.cluster) return this.redis.mget(...keys);
    return Promise.all(keys.map((key) => this.redis.get(key)));
  }

  /**
   * A cluster client must know the slot map before it can group commands by node, so it is
   * connected before the first command rather than lazily by it. While no node answers, this
   * stays pending (the client retries forever): callers bound it with their own deadline.
   */
  private connected(): Promise<void> {
    if (!this.target.cluster || this.redis.status !== 'wait') return Promise.resolve();
    this.connecting ??= this.redis.connect().finally(() => (this.connecting = undefined));
    this.connecting.catch(() => undefined); // a caller that gave up must not leave it unhandled
    return this.connecting;
  }

  /**
   * Runs an operation within a deadline: connecting and the commands together. A command that
   * was sent times out by itself (commandTimeout), but one waiting in the offline queue for a
   * cluster that has no reachable node would wait forever without this.
   */
  private async call<T>(operation: string, command: () => Promise<T>): Promise<T> {
    // A connected single node needs no deadline of ours (the hot path stays timer-free).
    if (!this.target.cluster && this.redis.status === 'ready') {
      try {
        return await command();
      } catch (error) {
        throw this.unavailable(operation, error);
      }
    }
    const deadlineMs = this.commandTimeoutMs * 2 + 1000;
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${deadlineMs} ms (${this.redis.status})`)), deadlineMs);
    });
    try {
      return await Promise.race([this.connected().then(command), deadline]);
    } catch (error) {
      throw this.unavailable(operation, error);
    } finally {
      clearTimeout(timer);
    }
  }

  private unavailable(operation: string, error: unknown): OnlineStoreUnavailableError {
    this.onError(operation);
    return new OnlineStoreUnavailableError(`Redis online store failed: ${error instanceof Error ? error.message : String(error)}`);
  }
}
