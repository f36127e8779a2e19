import { Injectable } from '@nestjs/common';
import { DatasetNotFoundError, TrainingSetNotFoundError, ValidationFailedError } from '../common/errors';
import { WorkBudget } from '../common/work-control';
import { AppConfig } from '../config/app-config';
import { FeatureCatalog } from '../core/catalog';
import { parseEntityRows } from '../core/entity-rows';
import { resolveSelection, SelectionRequest } from '../core/feature-selection';
import { DatasetService } from '../lake/dataset.service';
import { DatasetSnapshot } from '../lake/dataset-manifest';
import { FeatureSource, HistoricalQuery, QueryControl, SourceData, Spine } from '../offline-store/offline-store';
import { RegistryStore } from '../registry/registry.store';
import { EntitySource } from './entity-source';

export interface HistoricalRequest extends SelectionRequest {
  source: EntitySource;
  /** Only feature rows created at or before each entity row's time. */
  createdBeforeEvent?: boolean;
}

/** What a query read: the spine's dataset snapshot, if any. */
export interface BuiltQuery {
  query: HistoricalQuery;
  entitySnapshot: { dataset: string; snapshotId: number } | null;
}

/** A feature view's rows pinned to one snapshot of its dataset (a reproducible build reads these). */
export interface PinnedSource {
  view: string;
  dataset: string;
  snapshotId: number;
}

/**
 * Requests into engine queries: the selection against a registry version, the spine (a dataset
 * source resolved to one snapshot's local files) and where feature rows come from — and the
 * budget every query's engine work runs within.
 */
@Injectable()
export class HistoricalQueries {
  constructor(
    private readonly config: AppConfig,
    private readonly datasets: DatasetService,
    private readonly registryStore: RegistryStore,
  ) {}

  /** The wall-clock budget of a request's engine work, stopped early by `signal`. */
  budget(signal?: AbortSignal): WorkBudget {
    return { signals: [signal], timeout: { seconds: this.config.limits.queryTimeoutSeconds, field: 'limits.query_timeout_seconds' } };
  }

  /** How a query under `signal` writes its result: stopped by it, and bounded in size. */
  control(signal: AbortSignal): QueryControl {
    return { signal, maxResultBytes: this.config.limits.maxResultBytes };
  }

  async build(request: HistoricalRequest, catalog: FeatureCatalog, features?: FeatureSource): Promise<BuiltQuery> {
    const selection = resolveSelection(catalog, request);
    const { spine, entitySnapshot } = await this.spine(request.source, catalog, selection.joinKeys);
    return { query: { spine, selection, createdBeforeEvent: request.createdBeforeEvent ?? false, features, maxEntityRows: this.config.limits.maxEntityRows }, entitySnapshot };
  }

  /** The catalog of a registry version (a build pinned to it); TRAINING_SET_NOT_FOUND naming the training set `name` when the version is gone. */
  async catalogAt(version: number, name: string): Promise<FeatureCatalog> {
    const stored = await this.registryStore.get(version);
    if (!stored) throw new TrainingSetNotFoundError(`registry version ${version} of training set ${name} is gone`, { name });
    return new FeatureCatalog(stored);
  }

  /** The views' rows as the pinned snapshots hold them, as local files. */
  async pinnedFeatures(catalog: FeatureCatalog, pinned: PinnedSource[]): Promise<FeatureSource> {
    const sources = new Map<string, SourceData>();
    for (const source of pinned) {
      // A pinned snapshot never expires; one saved while retention let it go is found until GC puts it back.
      const snapshot = await this.datasets.snapshot(source.dataset, source.snapshotId, { includeExpired: true });
      if (!snapshot) throw new DatasetNotFoundError(`snapshot ${source.snapshotId} of dataset ${source.dataset} is gone`, { dataset: source.dataset });
      sources.set(source.view, { dataset: catalog.dataset(source.dataset), files: await this.datasets.localFiles(snapshot) });
    }
    return { kind: 'snapshots', sources };
  }

  private async spine(source: EntitySource, catalog: FeatureCatalog, keys: HistoricalQuery['selection']['joinKeys']): Promise<{ spine: Spine; entitySnapshot: BuiltQuery['entitySnapshot'] }> {
    switch (source.kind) {
      case 'columns':
        return { spine: { kind: 'rows', rows: parseEntityRows(source.columns, keys, { withTimestamps: true, extraColumns: true, maxRows: { max: this.config.limits.maxHistoricalRows, field: 'limits.max_historical_rows' } }) }, entitySnapshot: null };
      case 'file':
        return { spine: { kind: 'file', path: source.path, format: source.format, name: source.name }, entitySnapshot: null };
      case 'range':
        return { spine: source, entitySnapshot: null };
      case 'dataset': {
        const dataset = catalog.dataset(source.dataset);
        const snapshot = await this.snapshot(source.dataset, source.snapshotId);
        const timestampColumn = source.timestampColumn ?? dataset.timestampField;
        if (!timestampColumn) {
          throw new ValidationFailedError(`entity_dataset.timestamp_column: dataset ${dataset.name} has no timestamp_field; name the column that holds the entity times`, {
            field: 'entity_dataset.timestamp_column',
          });
        }
        const files = await this.datasets.localFiles(snapshot);
        return {
          spine: { kind: 'dataset', name: dataset.name, files, timestampColumn, keyColumns: source.keyColumns, start: source.start, end: source.end, filters: source.filters },
          entitySnapshot: { dataset: dataset.name, snapshotId: snapshot.snapshotId },
        };
      }
    }
  }

  private async snapshot(name: string, id?: number): Promise<DatasetSnapshot> {
    const snapshot = await this.datasets.snapshot(name, id);
    if (!snapshot) {
      throw new DatasetNotFoundError(id === undefined ? `dataset ${name} has no data yet` : `dataset ${name} has no snapshot ${id}`, { dataset: name, snapshot_id: id });
    }
    return snapshot;
  }
}
