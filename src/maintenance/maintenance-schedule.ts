import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { hostname } from 'node:os';
import { AppConfig } from '../config/app-config';
import { DocumentStore } from '../storage/document-store';
import { ROUNDS_PREFIX } from './lake-gc';
import { LakeMaintenance, MaintenanceReport } from './lake-maintenance';

export const MAINTENANCE_OPTIONS = Symbol('MaintenanceOptions');

export interface MaintenanceOptions {
  /** Whether this process runs the schedule: the processes that run compute (workers; a server that runs its own). */
  scheduled: boolean;
}


export interface RoundRecord {
  period: string;
  by: string;
  startedAt: string;
  finishedAt?: string;
  summary?: { compactedDatasets: number; compactedBuckets: number; expiredSnapshots: number; deleted: number; failures: string[] };
}

/**
 * `maintenance.every` in featurelake.yaml: every process that runs compute checks, at most once a
 * minute, whether the current period's round has been claimed; the first to create its record
 * runs it. So there is one round per period however many workers run, a worker started late
 * runs the round it missed, and a round whose worker died is not run twice (the next period's is).
 */
@Injectable()
export class MaintenanceSchedule implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Maintenance');
  private timer?: NodeJS.Timeout;
  private running?: Promise<unknown>;

  constructor(
    private readonly config: AppConfig,
    private readonly maintenance: LakeMaintenance,
    private readonly documents: DocumentStore,
    @Inject(MAINTENANCE_OPTIONS) private readonly options: MaintenanceOptions,
  ) {}

  onApplicationBootstrap(): void {
    const every = this.config.maintenance?.everySeconds;
    if (!this.options.scheduled || !every) return;
    const check = () => {
      this.running ??= this.tick(every).finally(() => (this.running = undefined));
    };
    this.timer = setInterval(check, Math.min(every, 60) * 1000);
    this.timer.unref();
    setImmediate(check);
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.running?.catch(() => undefined);
  }

  /** Claims and runs the current period's round, if nobody has. */
  async tick(everySeconds: number, nowMs = Date.now()): Promise<MaintenanceReport | null> {
    const period = new Date(Math.floor(nowMs / (everySeconds * 1000)) * everySeconds * 1000).toISOString();
    const key = `${ROUNDS_PREFIX}${period.replace(/[:.]/g, '-')}.json`;
    const record: RoundRecord = { period, by: `${hostname()}:${process.pid}`, startedAt: new Date().toISOString() };
    try {
      if (!(await this.documents.create(key, record))) return null;
      const report = await this.maintenance.run({ graceSeconds: this.config.maintenance.graceSeconds ?? undefined });
      const summary = {
        compactedDatasets: report.compacted.length,
        compactedBuckets: report.compactedBuckets.reduce((n, v) => n + v.buckets, 0),
        expiredSnapshots: report.expired.reduce((n, e) => n + e.snapshots.length, 0),
        deleted: report.gc.deleted.length,
        failures: report.failures.map((f) => `${f.step}: ${f.error.message}`),
      };
      await this.documents.put(key, { ...record, finishedAt: new Date().toISOString(), summary });
      this.logger.log(`maintenance round ${period}: ${JSON.stringify(summary)}`);
      return report;
    } catch (error) {
      this.logger.warn(`maintenance round ${period} failed: ${(error as Error).message}`);
      return null;
    }
  }
}
