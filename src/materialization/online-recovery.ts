import { Injectable, Logger } from '@nestjs/common';
import { nowMicros } from '../core/timestamp';
import { OfflineStore } from '../offline-store/offline-store';
import { OnlineStore } from '../online-store/online-store';
import { RegistryService } from '../registry/registry.service';
import { Job } from './job';
import { MaterializationJobs } from './materialization-jobs.service';

/**
 * At server start: every online view that has been written online is checked against the
 * online store's marker; views the store lost (a Redis restarted without persistence, say) are
 * rewritten from the offline table by an `online-restore` job, instead of reading NOT_FOUND
 * until someone happens to run a full materialization. Jobs check the same on every run.
 */
@Injectable()
export class OnlineRecovery {
  private readonly logger = new Logger(OnlineRecovery.name);

  constructor(
    private readonly registry: RegistryService,
    private readonly offline: OfflineStore,
    private readonly online: OnlineStore,
    private readonly jobs: MaterializationJobs,
  ) {}

  /** The restore job it submitted, or null when nothing was lost (or there is nothing applied yet). */
  async check(): Promise<Job | null> {
    const catalog = await this.registry.catalog().catch(() => null);
    if (!catalog) return null;
    const lost: string[] = [];
    for (const view of catalog.allViews().filter((v) => v.def.online)) {
      const { onlineEpoch } = await this.offline.viewState(view);
      if (onlineEpoch === null) continue;
      const stored = await this.online.readEpoch(catalog.project, view);
      if (stored === null || stored < onlineEpoch) lost.push(view.def.name);
    }
    if (lost.length === 0) return null;
    this.logger.warn(`the online store lost feature view(s) ${lost.join(', ')}; rewriting them from the offline tables`);
    return this.jobs.submit({ kind: 'online-restore', end: nowMicros(), views: lost });
  }

  /** `check` in the background, for start-up: a failure is logged, never fatal. */
  start(): void {
    this.check().catch((error: unknown) => this.logger.warn(`could not check the online store for lost views: ${error instanceof Error ? error.message : String(error)}`));
  }
}
