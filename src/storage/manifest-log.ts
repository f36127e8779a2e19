import { CommitConflictError } from '../common/errors';
import { ObjectStore } from './object-store';

const ID_WIDTH = 20;

export interface RetryPolicy {
  attempts: number;
  /** First back-off; it doubles per attempt (capped at 1 s) with jitter. */
  baseDelayMs: number;
}

export interface LogEntry<T> {
  id: number;
  manifest: T;
}

/**
 * An append-only sequence of JSON manifests under one prefix (`…/00000000000000000001.json`, …).
 * Entry N+1 is committed with a create-only write, so of two concurrent writers exactly one wins
 * and the other re-reads and retries on top of it: no commit is ever lost or half-visible.
 * Readers take the highest id, or any older one to reproduce the past.
 */
export class ManifestLog<T> {
  /** Commits from this process are serialised per log, so only other processes cause retries. */
  private static readonly queues = new Map<string, Promise<unknown>>();

  constructor(
    private readonly store: ObjectStore,
    private readonly prefix: string,
    private readonly retry: RetryPolicy = { attempts: 12, baseDelayMs: 10 },
  ) {}

  async ids(): Promise<number[]> {
    const keys = await this.store.list(this.prefix);
    return keys
      .map((key) => /\/(\d+)\.json$/.exec(key)?.[1])
      .filter((id): id is string => id !== undefined)
      .map(Number)
      .sort((a, b) => a - b);
  }

  async latest(): Promise<LogEntry<T> | null> {
    const ids = await this.ids();
    for (let i = ids.length - 1; i >= 0; i--) {
      const entry = await this.get(ids[i]);
      if (entry) return entry;
    }
    return null;
  }

  async get(id: number): Promise<LogEntry<T> | null> {
    const body = await this.store.get(this.key(id));
    return body ? { id, manifest: JSON.parse(body.toString('utf8')) as T } : null;
  }

  /**
   * Builds the next manifest from the latest one and commits it. `build` may run more than once
   * (after losing a race) and must be a pure function of its arguments.
   */
  async commit(build: (latest: LogEntry<T> | null, nextId: number) => T): Promise<LogEntry<T>> {
    const queued = ManifestLog.queues.get(this.queueKey) ?? Promise.resolve();
    const attempt = queued.catch(() => undefined).then(() => this.commitWithRetries(build));
    ManifestLog.queues.set(this.queueKey, attempt);
    try {
      return await attempt;
    } finally {
      if (ManifestLog.queues.get(this.queueKey) === attempt) ManifestLog.queues.delete(this.queueKey);
    }
  }

  private async commitWithRetries(build: (latest: LogEntry<T> | null, nextId: number) => T): Promise<LogEntry<T>> {
    for (let attempt = 0; attempt < this.retry.attempts; attempt++) {
      const latest = await this.latest();
      const nextId = (latest?.id ?? 0) + 1;
      const manifest = build(latest, nextId);
      if (await this.store.putIfAbsent(this.key(nextId), JSON.stringify(manifest, null, 1))) return { id: nextId, manifest };
      await sleep(Math.min(1000, this.retry.baseDelayMs * 2 ** attempt) * (0.5 + Math.random()));
    }
    throw new CommitConflictError(`could not commit to ${this.prefix} after ${this.retry.attempts} attempts: too many concurrent writers`);
  }

  /** The object key of entry `id` (retention moves an expired entry out of the log by it). */
  keyOf(id: number): string {
    return this.key(id);
  }

  private key(id: number): string {
    return `${this.prefix}${entryName(id)}`;
  }

  private get queueKey(): string {
    return `${this.store.location}|${this.prefix}`;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The object name of log entry `id` below its prefix (ids padded, so that names sort as numbers). */
export function entryName(id: number): string {
  return `${String(id).padStart(ID_WIDTH, '0')}.json`;
}
