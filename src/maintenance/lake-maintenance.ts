import { Injectable, Logger } from '@nestjs/common';
import { errorRecord, ErrorRecord } from '../common/errors';
import { FeatureCatalog } from '../core/catalog';
import { DatasetDef } from '../core/definitions';
import { Retention } from '../core/retention';
import { CompactionResult, DatasetCompaction } from '../lake/dataset-compaction';
import { DatasetService } from '../lake/dataset.service';
import { logDatasetService, REQUEST_TIME } from '../monitoring/logging/feature-log';
import { OfflineStore } from '../offline-store/offline-store';
import { RegistryService } from '../registry/registry.service';
import { ComputeCalls } from '../queue/compute-calls';
import { ObjectStore } from '../storage/object-store';
import { GcResult, LakeGc } from './lake-gc';
import { SnapshotPins } from './snapshot-pins';
import { SnapshotRetention } from './snapshot-retention';

/** A scheduled round compacts a dataset only once it has this many small files its views have consumed. */
export const SCHEDULED_MIN_SMALL_FILES = 8;

/** `POST /datasets/NAME/compact`, run where compute runs. */
export const COMPACT_CALL = 'dataset.compact';
export interface CompactCall {
  name: string;
  all: boolean;
}

export interface MaintenanceOptions {
  graceSeconds?: number;
  dryRun?: boolean;
}

export interface MaintenanceReport {
  compacted: { dataset: string; mergedFiles: number; newFiles: number; snapshotId: number }[];
  compactedBuckets: { view: string; buckets: number }[];
  expired: { dataset: string; snapshots: number[] }[];
  gc: GcResult;
  /** What could not be done this round (a compaction that lost a race, …); the rest went ahead. */
  failures: { step: string; error: ErrorRecord }[];
}

/**
 * Looks after the lake: compaction of datasets (feature logs included) and of feature views'
 * offline buckets, snapshot retention, and GC — each on its own by command, or all of them as
 * one round (`featurelake maintain`, and the schedule in featurelake.yaml).
 */
@Injectable()
export class LakeMaintenance {
  private readonly logger = new Logger('Maintenance');

  constructor(
    private readonly registry: RegistryService,
    private readonly datasets: DatasetService,
    private readonly compaction: DatasetCompaction,
    private readonly offline: OfflineStore,
    private readonly retention: SnapshotRetention,
    private readonly lakeGc: LakeGc,
    private readonly pins: SnapshotPins,
    private readonly store: ObjectStore,
    calls: ComputeCalls,
  ) {
    calls.register(COMPACT_CALL, (input: CompactCall, context) => this.compactDataset(input.name, { all: input.all, signal: context.signal }));
  }

  /**
   * Compacts a declared dataset or a feature service's log: the small files that every view
   * reading it has consumed (so that none recomputes anything), or with `all` every small file
   * (a view bucket that had consumed some of a merged file's rows then recomputes in full once).
   */
  async compactDataset(name: string, options: { all?: boolean; minSmallFiles?: number; signal?: AbortSignal } = {}): Promise<CompactionResult> {
    const log = logDatasetService(name) !== null && (await this.datasets.snapshot(name)) !== null;
    const dataset: DatasetDef = log ? { name, timestampField: REQUEST_TIME } : await this.datasets.definition(name);
    const consumedUpTo = options.all || log ? undefined : await this.consumedByViews(name);
    return this.compaction.compactAs(dataset, { ...options, consumedUpTo });
  }

  /** The latest snapshot every view reading the dataset has consumed in every bucket (views that have consumed none read it all anyway). */
  private async consumedByViews(dataset: string): Promise<number | undefined> {
    const views = (await this.registry.catalog()).viewsFedBy(dataset);
    const consumed = await Promise.all(views.map(async (v) => (await this.offline.viewState(v)).consumedSnapshot));
    const known = consumed.filter((c): c is number => c !== null);
    return known.length > 0 ? Math.min(...known) : undefined;
  }

  /** Rewrites each bucket of the views (all of them by default) that holds `minFiles` files or more, and has nothing pending online, as one file. */
  async compactViews(names?: string[], minFiles = 2): Promise<{ view: string; buckets: number }[]> {
    const catalog = await this.registry.catalog();
    const views = names ? names.map((n) => catalog.view(n)) : catalog.allViews();
    const done: { view: string; buckets: number }[] = [];
    for (const view of views) {
      const { buckets } = await this.offline.viewState(view);
      let compacted = 0;
      for (let bucket = 0; bucket < buckets; bucket++) if (await this.offline.compactBucket(view, bucket, minFiles)) compacted++;
      done.push({ view: view.def.name, buckets: compacted });
    }
    return done;
  }

  /** Expires every dataset's snapshots under its retention (a log's: its feature service's), never one a training set pins. */
  async expire(options: MaintenanceOptions = {}): Promise<MaintenanceReport['expired']> {
    const catalog = await this.registry.catalog();
    const pins = await this.pins.pinned();
    const expired: MaintenanceReport['expired'] = [];
    for (const name of await this.store.listFolders('datasets/')) {
      const retention = retentionOf(catalog, name);
      if (!retention) continue;
      const snapshots = await this.retention.expire(name, retention, pins.get(name) ?? new Set(), { dryRun: options.dryRun });
      if (snapshots.length > 0) expired.push({ dataset: name, snapshots });
    }
    return expired;
  }

  /** GC, with the pins of the training sets saved now. */
  async gc(options: MaintenanceOptions = {}): Promise<GcResult> {
    return this.lakeGc.collect({ ...options, pins: await this.pins.pinned() });
  }

  /** One round: compaction (datasets with many small files, views' piled-up buckets), retention, GC. Each step's failure is reported, and the round goes on. */
  async run(options: MaintenanceOptions = {}): Promise<MaintenanceReport> {
    const report: MaintenanceReport = { compacted: [], compactedBuckets: [], expired: [], gc: { deleted: [], young: 0, restored: [] }, failures: [] };
    const attempt = async (step: string, work: () => Promise<void>) => {
      try {
        await work();
      } catch (error) {
        report.failures.push({ step, error: errorRecord(error) });
        this.logger.warn(`maintenance: ${step} failed: ${(error as Error).message}`);
      }
    };
    if (!options.dryRun) {
      for (const name of await this.compactable()) {
        await attempt(`compact dataset ${name}`, async () => {
          const result = await this.compactDataset(name, { minSmallFiles: SCHEDULED_MIN_SMALL_FILES });
          if (result.snapshot) report.compacted.push({ dataset: name, mergedFiles: result.mergedFiles, newFiles: result.newFiles, snapshotId: result.snapshot.snapshotId });
        });
      }
      await attempt('compact views', async () => {
        report.compactedBuckets = (await this.compactViews(undefined, SCHEDULED_MIN_SMALL_FILES)).filter((v) => v.buckets > 0);
      });
    }
    await attempt('retention', async () => void (report.expired = await this.expire(options)));
    await attempt('gc', async () => void (report.gc = await this.gc(options)));
    return report;
  }

  /** Datasets in the lake that are declared, or are a feature service's log. */
  private async compactable(): Promise<string[]> {
    const declared = new Set((await this.registry.catalog()).registry.datasets.map((d) => d.name));
    return (await this.store.listFolders('datasets/')).filter((n) => declared.has(n) || logDatasetService(n) !== null);
  }
}

/** A declared dataset's retention, or for a log dataset its feature service's `logging.retention`. */
function retentionOf(catalog: FeatureCatalog, dataset: string): Retention | undefined {
  const declared = catalog.registry.datasets.find((d) => d.name === dataset);
  if (declared) return declared.retention;
  const service = logDatasetService(dataset);
  return service === null ? undefined : catalog.registry.featureServices.find((s) => s.name === service)?.logging?.retention;
}
