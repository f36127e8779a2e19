import { DuckDBConnection, LIST, listValue, VARCHAR } from '@duckdb/node-api';
import { ResolvedView } from '../core/catalog';
import { decodeRecord, encodeRecord, expiresAtMs, ORDER_PREFIX_LENGTH, OnlineRecord } from '../core/online-record';
import { DuckDbDatabase } from '../duckdb/duckdb-database';
import { epochKey, OnlineReadRequest, OnlineStore, projectKeyPrefixes, recordKey } from './online-store';

const TABLE = 'online_records';
const PRUNE_INTERVAL_MS = 60_000;

/**
 * The online store for local use without a Redis server: a keyed table in its own DuckDB file,
 * same record encoding and expiry rule as Redis. Writes keep the newer record with one upsert
 * per batch; expired records are never read, and pruned at most once a minute.
 */
export class EmbeddedOnlineStore extends OnlineStore {
  private ready?: Promise<void>;
  /** The file generation the table was created in (a replaced file needs it again). */
  private readyFor = -1;
  private lastPrune = 0;

  constructor(private readonly db: DuckDbDatabase) {
    super();
  }

  async write(project: string, view: ResolvedView, records: OnlineRecord[]): Promise<void> {
    if (records.length === 0) return;
    await this.session(async (c) => {
      await c.run('CREATE OR REPLACE TEMP TABLE incoming (key VARCHAR, value VARCHAR, expires_at_ms BIGINT)');
      const appender = await c.createAppender('incoming', 'main', 'temp');
      for (const record of records) {
        appender.appendVarchar(recordKey(project, view, record.entityKey));
        appender.appendVarchar(encodeRecord(record));
        appender.appendBigInt(BigInt(expiresAtMs(record, view.def.ttlSeconds)));
        appender.endRow();
      }
      appender.closeSync();
      // The newest record per key within the batch, then an upsert that never goes backwards
      // (an expired stored record counts as absent, as it does in Redis).
      await c.run(`INSERT INTO ${TABLE}
        SELECT key, value, expires_at_ms FROM temp.incoming
        QUALIFY row_number() OVER (PARTITION BY key ORDER BY value[1:${ORDER_PREFIX_LENGTH}] DESC) = 1
        ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires_at_ms = excluded.expires_at_ms
        WHERE excluded.value[1:${ORDER_PREFIX_LENGTH}] >= ${TABLE}.value[1:${ORDER_PREFIX_LENGTH}] OR ${expired(TABLE)}`);
      await this.prune(c);
    });
  }

  async read(project: string, requests: OnlineReadRequest[]): Promise<(OnlineRecord | null)[][]> {
    const keys = requests.flatMap(({ view, entityKeys }) =>
      entityKeys.flatMap((key) => (key === null ? [] : [recordKey(project, view, key)])),
    );
    const found = new Map<string, string>();
    if (keys.length > 0) {
      await this.session(async (c) => {
        const reader = await c.runAndReadAll(`SELECT key, value FROM ${TABLE} WHERE key IN (SELECT unnest($1)) AND NOT ${expired(TABLE)}`, [listValue(keys)], [LIST(VARCHAR)]);
        for (const [key, value] of reader.getRows()) found.set(key as string, value as string);
      });
    }
    return requests.map(({ view, entityKeys }) => {
      const types = view.def.features.map((f) => f.type);
      return entityKeys.map((key) => {
        const text = key === null ? undefined : found.get(recordKey(project, view, key));
        return text === undefined ? null : decodeRecord(key as string, text, types);
      });
    });
  }

  async readEpoch(project: string, view: ResolvedView): Promise<number | null> {
    return this.session(async (c) => {
      const rows = (await c.runAndReadAll(`SELECT value FROM ${TABLE} WHERE key = $1`, [epochKey(project, view)])).getRows();
      return rows.length === 0 ? null : Number(rows[0][0]);
    });
  }

  async writeEpoch(project: string, view: ResolvedView, epoch: number): Promise<void> {
    await this.session((c) =>
      c.run(`INSERT INTO ${TABLE} VALUES ($1, $2, 0) ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires_at_ms = 0`, [epochKey(project, view), String(epoch)]),
    );
  }

  async deleteProject(project: string): Promise<number> {
    return this.session(async (c) => {
      // starts_with, not LIKE: `_` in a project name is a LIKE wildcard.
      const result = await c.run(`DELETE FROM ${TABLE} WHERE starts_with(key, $1) OR starts_with(key, $2)`, projectKeyPrefixes(project));
      return result.rowsChanged;
    });
  }

  async ping(): Promise<void> {
    await this.session(async (c) => void (await c.run('SELECT 1')));
  }

  async close(): Promise<void> {
    await this.db.close();
  }

  private async prune(c: DuckDBConnection): Promise<void> {
    if (Date.now() - this.lastPrune < PRUNE_INTERVAL_MS) return;
    this.lastPrune = Date.now();
    await c.run(`DELETE FROM ${TABLE} WHERE ${expired(TABLE)}`);
  }

  private session<T>(work: (c: DuckDBConnection) => Promise<T>): Promise<T> {
    return this.db.withConnection(async (c) => {
      if (this.readyFor !== this.db.generation) this.ready = undefined;
      this.readyFor = this.db.generation;
      this.ready ??= c.run(
        `CREATE TABLE IF NOT EXISTS ${TABLE} (key VARCHAR PRIMARY KEY, value VARCHAR NOT NULL, expires_at_ms BIGINT DEFAULT 0);
         ALTER TABLE ${TABLE} ADD COLUMN IF NOT EXISTS expires_at_ms BIGINT DEFAULT 0`,
      ).then(
        () => undefined,
        (error: unknown) => {
          this.ready = undefined;
          throw error;
        },
      );
      await this.ready;
      return work(c);
    });
  }
}

function expired(table: string): string {
  return `(coalesce(${table}.expires_at_ms, 0) > 0 AND ${table}.expires_at_ms <= epoch_ms(now()))`;
}
