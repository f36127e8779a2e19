import { Injectable } from '@nestjs/common';
import { ConfirmationRequiredError, MaterializationInProgressError } from '../common/errors';
import { AppConfig } from '../config/app-config';
import { OfflineStore } from '../offline-store/offline-store';
import { OnlineStore } from '../online-store/online-store';
import { ACTIVE_STATES } from './job';
import { JobStore } from './job.store';

export interface TeardownResult {
  project: string;
  onlineKeys: number;
  offlineViews: number;
  offlineObjects: number;
}

/**
 * `featurelake teardown`: removes what materialization built — the project's online keys and
 * every view's offline rows and incremental state — and keeps what it was built from
 * (datasets, the registry), what users saved (training sets, skew results) and job history.
 * Materializing afterwards rebuilds both stores from the lake.
 */
@Injectable()
export class Teardown {
  constructor(
    private readonly config: AppConfig,
    private readonly jobs: JobStore,
    private readonly offline: OfflineStore,
    private readonly online: OnlineStore,
  ) {}

  /** What teardown removes, in words, for the confirmation prompt. */
  describe(): string {
    const online = this.config.online.type === 'redis' ? `Redis (${redactedUrl(this.config.online.url)})` : 'the embedded online store';
    return `teardown removes every online key of project ${this.config.project} from ${online}, and every feature view's offline rows and incremental state from the lake (${this.config.lake.uri}); datasets, the registry, training sets, skew results and job history stay`;
  }

  async run(confirmed: boolean): Promise<TeardownResult> {
    if (!confirmed) throw new ConfirmationRequiredError(`${this.describe()}. Run it again with --yes to go ahead.`);
    const active = (await this.jobs.list(1000)).filter((job) => ACTIVE_STATES.includes(job.state));
    if (active.length > 0) {
      throw new MaterializationInProgressError(`jobs ${active.map((j) => j.id).join(', ')} are ${active[0].state}: cancel them or let them finish before teardown`, { jobs: active.map((j) => j.id) });
    }
    await this.online.ping(); // a store held by a server (STORE_LOCKED) or down fails here, before anything is removed
    // Offline first: while its rows exist, a missing online marker reads as a lost store and
    // would be rewritten from them.
    const offline = await this.offline.dropAll();
    const onlineKeys = await this.online.deleteProject(this.config.project);
    return { project: this.config.project, onlineKeys, offlineViews: offline.views, offlineObjects: offline.objects };
  }
}

function redactedUrl(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//***@');
}
