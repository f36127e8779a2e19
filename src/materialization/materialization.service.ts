import { Injectable, Logger } from '@nestjs/common';
import { FeatureViewNotFoundError, InvalidWindowError, MaterializationInProgressError } from '../common/errors';
import { FeatureCatalog, ResolvedView } from '../core/catalog';
import { formatTimestamp, Micros, parseTimestamp } from '../core/timestamp';
import { DatasetService } from '../lake/dataset.service';
import { OfflineStore } from '../offline-store/offline-store';
import { OnlineStore } from '../online-store/online-store';
import { RegistryService } from '../registry/registry.service';

export interface ViewRun {
  view: string;
  start: Micros;
  end: Micros;
  /** Lake snapshot of the source dataset that was read (null: it had no data, view skipped). */
  sourceSnapshot: number | null;
  rowsOffline: number;
  rowsOnline: number;
  durationMs: number;
}

export interface MaterializationRun {
  views: ViewRun[];
  durationMs: number;
}

export type ProgressListener = (event: { view: string; stage: 'offline' | 'online' | 'done'; rows: number }) => void;

const ONLINE_BATCH = 2000;
/** Where a view's first incremental run starts: all history goes into the offline table. */
const BEGINNING_OF_TIME = parseTimestamp('0001-01-01T00:00:00Z') as Micros;

/**
 * Runs materialization: recomputes a window of each feature view from the lake into its
 * offline table, then pushes the newest row per entity of that window to the online store.
 * One run per view at a time in this process (a second gets 409 with the view named).
 */
@Injectable()
export class MaterializationService {
  private readonly logger = new Logger(MaterializationService.name);
  private readonly running = new Set<string>();

  constructor(
    private readonly registry: RegistryService,
    private readonly datasets: DatasetService,
    private readonly offline: OfflineStore,
    private readonly online: OnlineStore,
  ) {}

  /** Feast's `materialize START END`: the window [start, end], both ends inclusive. */
  async materialize(start: Micros, end: Micros, viewNames?: string[], onProgress?: ProgressListener): Promise<MaterializationRun> {
    if (start > end) {
      throw new InvalidWindowError(`start ${formatTimestamp(start)} is after end ${formatTimestamp(end)}`, { field: 'start_ts' });
    }
    const catalog = await this.registry.catalog();
    return this.run(catalog, selectViews(catalog, viewNames), async () => start, end, onProgress);
  }

  /** Feast's `materialize-incremental END`: from where each view's last run ended (or the beginning) to end. */
  async materializeIncremental(end: Micros, viewNames?: string[], onProgress?: ProgressListener): Promise<MaterializationRun> {
    const catalog = await this.registry.catalog();
    const startOf = async (view: ResolvedView) => (await this.offline.watermark(view)) ?? BEGINNING_OF_TIME;
    return this.run(catalog, selectViews(catalog, viewNames), startOf, end, onProgress);
  }

  private async run(
    catalog: FeatureCatalog,
    views: ResolvedView[],
    startOf: (view: ResolvedView) => Promise<Micros>,
    end: Micros,
    onProgress?: ProgressListener,
  ): Promise<MaterializationRun> {
    const started = Date.now();
    this.lock(views);
    try {
      const runs: ViewRun[] = [];
      for (const view of views) runs.push(await this.runView(catalog, view, await startOf(view), end, onProgress));
      return { views: runs, durationMs: Date.now() - started };
    } finally {
      for (const view of views) this.running.delete(view.def.name);
    }
  }

  private async runView(catalog: FeatureCatalog, view: ResolvedView, start: Micros, end: Micros, onProgress?: ProgressListener): Promise<ViewRun> {
    const started = Date.now();
    const snapshot = await this.datasets.snapshot(view.dataset.name);
    const result: ViewRun = { view: view.def.name, start, end, sourceSnapshot: null, rowsOffline: 0, rowsOnline: 0, durationMs: 0 };
    if (snapshot && start <= end) {
      result.sourceSnapshot = snapshot.snapshotId;
      const files = await this.datasets.localFiles(snapshot);
      result.rowsOffline = await this.offline.materializeWindow(view, { dataset: view.dataset, files }, start, end);
      onProgress?.({ view: view.def.name, stage: 'offline', rows: result.rowsOffline });
      if (view.def.online) {
        for await (const batch of this.offline.latestRows(view, start, end, ONLINE_BATCH)) {
          await this.online.write(catalog.project, view, batch);
          result.rowsOnline += batch.length;
          onProgress?.({ view: view.def.name, stage: 'online', rows: result.rowsOnline });
        }
      }
      await this.offline.setWatermark(view, end);
    }
    result.durationMs = Date.now() - started;
    onProgress?.({ view: view.def.name, stage: 'done', rows: result.rowsOffline });
    this.logger.log(`${view.def.name}: ${result.rowsOffline} offline rows, ${result.rowsOnline} online rows in ${result.durationMs} ms`);
    return result;
  }

  private lock(views: ResolvedView[]): void {
    const busy = views.find((v) => this.running.has(v.def.name));
    if (busy) {
      throw new MaterializationInProgressError(`feature view ${busy.def.name} is being materialized already; try again when it finishes`, {
        view: busy.def.name,
      });
    }
    for (const view of views) this.running.add(view.def.name);
  }
}

function selectViews(catalog: FeatureCatalog, names?: string[]): ResolvedView[] {
  if (!names || names.length === 0) return catalog.allViews();
  return names.map((name) => {
    try {
      return catalog.view(name);
    } catch {
      throw new FeatureViewNotFoundError(`feature view ${JSON.stringify(name)} is not defined`, { feature_views: name });
    }
  });
}
