import Redis from 'ioredis';
import { OnlineStoreUnavailableError } from '../common/errors';
import { ResolvedView } from '../core/catalog';
import { decodeRecord, encodeRecord, ORDER_PREFIX_LENGTH, OnlineRecord } from '../core/online-record';
import { OnlineReadRequest, OnlineStore, recordKey } from './online-store';

const KEY_PREFIX = 'fl:';

/**
 * Compare-and-set for a batch of keys, atomic per key on the server: a stored value whose
 * ordering prefix (event time, created time) is greater than the new one's is kept.
 */
const WRITE_NEWER = `
local written = 0
for i = 1, #KEYS do
  local old = redis.call('GET', KEYS[i])
  if (not old) or string.sub(old, 1, ${ORDER_PREFIX_LENGTH}) <= string.sub(ARGV[i], 1, ${ORDER_PREFIX_LENGTH}) then
    redis.call('SET', KEYS[i], ARGV[i])
    written = written + 1
  end
end
return written`;

const WRITE_BATCH = 500;

type RedisWithScript = Redis & { writeNewer(numKeys: number, ...keysAndValues: string[]): Promise<number> };

/** Online store on a single Redis node: one string per (view, entity); reads are one MGET. */
export class RedisOnlineStore extends OnlineStore {
  private readonly redis: RedisWithScript;

  constructor(url: string) {
    super();
    // Auto-pipelining batches the commands of concurrent requests into one write: under load,
    // one syscall per request to Redis was the largest single cost of serving (bench/README.md).
    this.redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 2, enableOfflineQueue: true, enableAutoPipelining: true }) as RedisWithScript;
    this.redis.defineCommand('writeNewer', { lua: WRITE_NEWER });
    this.redis.on('error', () => undefined); // surfaced per command as ONLINE_STORE_UNAVAILABLE
  }

  async write(project: string, view: ResolvedView, records: OnlineRecord[]): Promise<void> {
    const pipeline = this.redis.pipeline();
    for (let i = 0; i < records.length; i += WRITE_BATCH) {
      const batch = records.slice(i, i + WRITE_BATCH);
      const keys = batch.map((r) => KEY_PREFIX + recordKey(project, view, r.entityKey));
      (pipeline as unknown as RedisWithScript).writeNewer(keys.length, ...keys, ...batch.map(encodeRecord));
    }
    const results = await this.call(() => pipeline.exec());
    const failed = results?.find(([error]) => error);
    if (failed) throw this.unavailable(failed[0]);
  }

  async read(project: string, requests: OnlineReadRequest[]): Promise<(OnlineRecord | null)[][]> {
    const keys: string[] = [];
    for (const { view, entityKeys } of requests) {
      for (const key of entityKeys) if (key !== null) keys.push(KEY_PREFIX + recordKey(project, view, key));
    }
    const values = keys.length ? await this.call(() => this.redis.mget(...keys)) : [];
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

  async ping(): Promise<void> {
    await this.call(() => this.redis.ping());
  }

  async close(): Promise<void> {
    if (this.redis.status === 'ready') await this.redis.quit().catch(() => undefined);
    this.redis.disconnect();
  }

  private async call<T>(command: () => Promise<T>): Promise<T> {
    try {
      return await command();
    } catch (error) {
      throw this.unavailable(error);
    }
  }

  private unavailable(error: unknown): OnlineStoreUnavailableError {
    return new OnlineStoreUnavailableError(`Redis online store failed: ${error instanceof Error ? error.message : String(error)}`);
  }
}
