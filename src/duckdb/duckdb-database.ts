import { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { OfflineStoreLockedError } from '../common/errors';
import { readServerFile } from '../common/server-file';
import { displayPath } from '../config/load-config';

/**
 * One DuckDB database (a file, or in memory), opened on first use so that commands which never
 * touch it (plan, apply, ingest) work while a server holds the file. DuckDB allows one writing
 * process per file; when another process holds it, the error names that process and how to
 * reach it instead of surfacing DuckDB's raw lock message.
 */
export class DuckDbDatabase {
  private instance?: Promise<DuckDBInstance>;

  constructor(
    private readonly path: string,
    private readonly stateDir: string,
    /** DuckDB's memory_limit (e.g. `1GB`): beyond it, joins, sorts and windows spill to disk. */
    private readonly memoryLimit?: string,
  ) {}

  async connect(): Promise<DuckDBConnection> {
    const connection = await (await this.open()).connect();
    await connection.run("SET TimeZone = 'UTC'");
    return connection;
  }

  async withConnection<T>(work: (connection: DuckDBConnection) => Promise<T>): Promise<T> {
    const connection = await this.connect();
    try {
      return await work(connection);
    } finally {
      connection.closeSync();
    }
  }

  async close(): Promise<void> {
    const opened = this.instance;
    this.instance = undefined;
    await opened?.then((instance) => instance.closeSync()).catch(() => undefined);
  }

  private open(): Promise<DuckDBInstance> {
    if (!this.instance) {
      this.instance = this.create();
      this.instance.catch(() => (this.instance = undefined));
    }
    return this.instance;
  }

  private async create(): Promise<DuckDBInstance> {
    const inMemory = this.path === ':memory:';
    if (!inMemory) mkdirSync(dirname(this.path), { recursive: true });
    try {
      const options: Record<string, string> = { temp_directory: `${this.stateDir}/tmp/duckdb` };
      if (this.memoryLimit) options.memory_limit = this.memoryLimit;
      return await DuckDBInstance.create(this.path, options);
    } catch (error) {
      throw this.describeOpenError(error);
    }
  }

  private describeOpenError(error: unknown): unknown {
    const message = error instanceof Error ? error.message : String(error);
    if (!/Could not set lock|Conflicting lock/i.test(message)) return error;
    const server = readServerFile(this.stateDir);
    const holder = server
      ? `the featurelake server at ${server.url} (pid ${server.pid})`
      : `another process (${/PID (\d+)/.exec(message)?.[0] ?? 'unknown pid'})`;
    const hint = server
      ? `send this request to its HTTP API (${server.url}/docs), or stop it first`
      : 'wait for it to finish, or stop it first';
    return new OfflineStoreLockedError(`${displayPath(this.path)} is held open by ${holder}; ${hint}`, {
      path: this.path,
      server: server ?? undefined,
    });
  }
}
