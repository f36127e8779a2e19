import { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { mkdirSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { StoreLockedError, StateFileReplacedError } from '../common/errors';
import { readServerFile } from '../common/server-file';
import { displayPath } from '../config/load-config';
import { engineError, EngineLimits } from './engine-errors';

export interface DuckDbOptions extends EngineLimits {
  /** A database file, or `:memory:`. */
  path: string;
  /** Where this instance spills beyond its memory limit (inside the process's scratch folder). */
  tempDir: string;
  /** The state folder, where a running server leaves its address (named when the file is locked). */
  stateDir: string;
  /** Called when the file was found deleted or replaced under this process and has been reopened. */
  onReplaced?: (path: string) => void;
}

/** Statement methods that check the work's signal before they start (an interrupt between statements would be lost). */
const GUARDED = new Set<PropertyKey>(['run', 'runAndRead', 'runAndReadAll', 'runAndReadUntil', 'stream', 'streamAndRead', 'streamAndReadAll', 'streamAndReadUntil', 'prepare', 'createAppender']);

/**
 * One DuckDB database (a file, or in memory) with a memory limit and a spill limit, opened on
 * first use so that commands which never touch it (plan, apply, ingest) work while a server
 * holds the file. DuckDB allows one writing process per file; when another process holds it,
 * the error names that process and how to reach it instead of DuckDB's raw lock message. A file
 * deleted or replaced under a running process is noticed at the next connection and reopened,
 * never written into.
 */
export class DuckDbDatabase {
  private opened?: Promise<DuckDBInstance>;
  /** The opened file's identity (null in memory, undefined before opening). */
  private file?: { dev: number; ino: number } | null;
  private opens = 0;

  constructor(readonly options: DuckDbOptions) {}

  get name(): string {
    return this.options.name;
  }

  /** Counts openings: state built on one file (schemas created, say) is rebuilt when it changes. */
  get generation(): number {
    return this.opens;
  }

  async connect(): Promise<DuckDBConnection> {
    const connection = await (await this.open()).connect();
    await connection.run("SET TimeZone = 'UTC'");
    return connection;
  }

  /**
   * Runs `work` on a fresh connection. With a signal, the running statement is interrupted when
   * it fires and no statement starts after it; the work then fails with the signal's reason.
   * Out-of-memory, spill-limit and disk-full errors become DomainErrors naming their limit.
   */
  async withConnection<T>(work: (connection: DuckDBConnection) => Promise<T>, signal?: AbortSignal): Promise<T> {
    const connection = await this.connect();
    const interrupt = () => connection.interrupt();
    signal?.addEventListener('abort', interrupt);
    try {
      return await work(signal ? guarded(connection, signal) : connection);
    } catch (error) {
      throw engineError(error, this.options, signal);
    } finally {
      signal?.removeEventListener('abort', interrupt);
      connection.closeSync();
    }
  }

  /** An error of this instance's work as a DomainError naming the limit it hit (out of memory, spill, disk), when it is one. */
  describeError(error: unknown, signal?: AbortSignal): unknown {
    return engineError(error, this.options, signal);
  }

  /**
   * True when the file this instance opened is no longer the one at its path (deleted, or
   * replaced by another file). A session that wrote while this happened wrote into the old file.
   */
  fileReplaced(): boolean {
    if (!this.file) return false;
    const now = identity(this.options.path);
    return now === null || now.dev !== this.file.dev || now.ino !== this.file.ino;
  }

  /** Fails with STATE_FILE_REPLACED when the file was deleted or replaced while `what` ran. */
  assertFileCurrent(what: string): void {
    if (!this.fileReplaced()) return;
    throw new StateFileReplacedError(
      `${displayPath(this.options.path)} was deleted or replaced while ${what} ran, so its changes went to the old file; nothing of it is in the file now at that path. Run it again.`,
      { path: this.options.path },
    );
  }

  async close(): Promise<void> {
    const opened = this.opened;
    this.opened = undefined;
    this.file = undefined;
    await opened?.then((instance) => instance.closeSync()).catch(() => undefined);
  }

  /** Closes the instance with the application (Nest calls this on every provider). */
  async onApplicationShutdown(): Promise<void> {
    await this.close();
  }

  private open(): Promise<DuckDBInstance> {
    if (this.opened && this.file && this.fileReplaced()) {
      // Connections still on the old file finish there; its instance is released with them.
      this.opened = undefined;
      this.file = undefined;
      this.options.onReplaced?.(this.options.path);
    }
    if (!this.opened) {
      this.opened = this.create();
      this.opened.catch(() => (this.opened = undefined));
    }
    return this.opened;
  }

  private async create(): Promise<DuckDBInstance> {
    const { path, tempDir, memoryLimitBytes, tempLimitBytes, threads } = this.options;
    const inMemory = path === ':memory:';
    if (!inMemory) mkdirSync(dirname(path), { recursive: true });
    let instance: DuckDBInstance;
    try {
      instance = await DuckDBInstance.create(path, { temp_directory: tempDir, memory_limit: `${memoryLimitBytes}B`, ...(threads ? { threads: String(threads) } : {}) });
    } catch (error) {
      throw this.describeOpenError(error);
    }
    // Given at creation, the spill limit is reset by temp_directory; set afterwards, it holds.
    const setup = await instance.connect();
    try {
      await setup.run(`SET max_temp_directory_size = '${tempLimitBytes}B'`);
    } finally {
      setup.closeSync();
    }
    this.file = inMemory ? null : identity(path);
    this.opens++;
    return instance;
  }

  private describeOpenError(error: unknown): unknown {
    const message = error instanceof Error ? error.message : String(error);
    if (!/Could not set lock|Conflicting lock/i.test(message)) return engineError(error, this.options);
    const server = readServerFile(this.options.stateDir);
    const holder = server
      ? `the featurelake server at ${server.url ?? '(starting)'} (pid ${server.pid})`
      : `another process (${/PID (\d+)/.exec(message)?.[0] ?? 'unknown pid'})`;
    const hint = server?.url
      ? `send this request to its HTTP API (${server.url}/docs), or stop it first`
      : 'wait for it to finish, or stop it first';
    return new StoreLockedError(`${displayPath(this.options.path)} is held open by ${holder}; ${hint}`, {
      path: this.options.path,
      server: server ?? undefined,
    });
  }
}

function identity(path: string): { dev: number; ino: number } | null {
  try {
    const { dev, ino } = statSync(path);
    return { dev, ino };
  } catch {
    return null;
  }
}

/** The connection, with every statement refused once `signal` has fired. */
function guarded(connection: DuckDBConnection, signal: AbortSignal): DuckDBConnection {
  return new Proxy(connection, {
    get(target, property) {
      const value: unknown = Reflect.get(target, property, target);
      if (typeof value !== 'function') return value;
      if (!GUARDED.has(property)) return (value as (...args: unknown[]) => unknown).bind(target);
      return (...args: unknown[]) => {
        if (signal.aborted) return Promise.reject(signal.reason);
        return (value as (...args: unknown[]) => unknown).apply(target, args);
      };
    },
  });
}
