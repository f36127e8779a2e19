import { DuckDBConnection } from '@duckdb/node-api';
import { DuckDbDatabase } from '../duckdb/duckdb-database';
import { ACTIVE_STATES, Job } from './job';
import { JobStore } from './job.store';

const TABLE = 'featurelake_meta.jobs';

/** Job history in the offline DuckDB file, next to the tables the jobs build. */
export class DuckDbJobStore extends JobStore {
  private ready?: Promise<void>;
  private readyFor = -1;

  constructor(private readonly db: DuckDbDatabase) {
    super();
  }

  async save(job: Job): Promise<void> {
    await this.session((c) => c.run(`INSERT OR REPLACE INTO ${TABLE} VALUES ($1, $2, $3, $4)`, [job.id, job.createdAt, job.state, encode(job)]));
  }

  async get(id: string): Promise<Job | null> {
    return this.session(async (c) => {
      const rows = (await c.runAndReadAll(`SELECT body FROM ${TABLE} WHERE id = $1`, [id])).getRows();
      return rows.length ? decode(rows[0][0] as string) : null;
    });
  }

  async list(limit: number): Promise<Job[]> {
    return this.session(async (c) => {
      const rows = (await c.runAndReadAll(`SELECT body FROM ${TABLE} ORDER BY created_at DESC, id LIMIT $1`, [limit])).getRows();
      return rows.map((r) => decode(r[0] as string));
    });
  }

  private session<T>(work: (c: DuckDBConnection) => Promise<T>): Promise<T> {
    return this.db.withConnection(async (c) => {
      if (this.readyFor !== this.db.generation) this.ready = undefined;
      this.readyFor = this.db.generation;
      this.ready ??= this.open(c).catch((error: unknown) => {
        this.ready = undefined;
        throw error;
      });
      await this.ready;
      return work(c);
    });
  }

  /** First use in this process: any job still queued or running belonged to a process that is gone. */
  private async open(c: DuckDBConnection): Promise<void> {
    await c.run('CREATE SCHEMA IF NOT EXISTS featurelake_meta');
    await c.run(`CREATE TABLE IF NOT EXISTS ${TABLE} (id VARCHAR PRIMARY KEY, created_at VARCHAR NOT NULL, state VARCHAR NOT NULL, body VARCHAR NOT NULL)`);
    const states = ACTIVE_STATES.map((s) => `'${s}'`).join(', ');
    const rows = (await c.runAndReadAll(`SELECT body FROM ${TABLE} WHERE state IN (${states})`)).getRows();
    for (const [body] of rows) {
      const job = decode(body as string);
      const finishedAt = new Date().toISOString();
      const interrupted: Job = {
        ...job,
        state: 'failed',
        finishedAt,
        error: { code: 'JOB_INTERRUPTED', message: 'the process running this job stopped before it finished; run it again (it resumes safely)' },
      };
      await c.run(`INSERT OR REPLACE INTO ${TABLE} VALUES ($1, $2, $3, $4)`, [job.id, job.createdAt, interrupted.state, encode(interrupted)]);
    }
  }
}

/** Jobs hold bigint microseconds; JSON carries them as tagged strings. */
function encode(job: Job): string {
  return JSON.stringify(job, (_key, value: unknown) => (typeof value === 'bigint' ? { $micros: value.toString() } : value));
}

function decode(text: string): Job {
  return JSON.parse(text, (_key, value: unknown) =>
    value && typeof value === 'object' && '$micros' in value ? BigInt((value as { $micros: string }).$micros) : value,
  ) as Job;
}
