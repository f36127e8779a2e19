import { Injectable } from '@nestjs/common';
import { Readable } from 'node:stream';
import { DatasetNotFoundError, TrainingSetExistsError, TrainingSetNotFoundError, ValidationFailedError } from '../common/errors';
import { TempFiles } from '../common/temp-files';
import { withWorkControl } from '../common/work-control';
import { FeatureCatalog } from '../core/catalog';
import { resolveSelection } from '../core/feature-selection';
import { isIdentifier } from '../core/identifiers';
import { formatTimestamp } from '../core/timestamp';
import { DatasetService } from '../lake/dataset.service';
import { DocumentStore } from '../storage/document-store';
import { ObjectStore } from '../storage/object-store';
import { FeatureSource, OfflineStore, QueryControl, SourceData } from '../offline-store/offline-store';
import { RegistryService } from '../registry/registry.service';
import { ComputeCalls } from '../queue/compute-calls';
import { EntitySource } from './entity-source';
import { HistoricalQueries, HistoricalRequest, PinnedSource } from './historical-queries';
import { PartitionedJoin } from './partitioned-join';
import { ResultEncoder, ResultFormat } from './result-encoder';
import { TrainingSetMetadata, trainingSetPrefix } from './training-set';

/** What the entity rows of a saved training set are called in messages. */
const SAVED_ROWS = 'saved entity rows';

export interface SaveRequest extends HistoricalRequest {
  name: string;
  description?: string;
}

export interface Verification {
  identical: boolean;
  rows: number;
  savedSha256: string;
  rebuiltSha256: string;
}

/**
 * Saved training sets: a point-in-time result computed from named lake snapshots (not from the
 * offline tables, which move on), stored in the lake with its entity rows and the metadata
 * needed to rebuild it — and a rebuild that proves it gives the same bytes.
 */
@Injectable()
export class TrainingSetsService {
  constructor(
    private readonly registry: RegistryService,
    private readonly queries: HistoricalQueries,
    private readonly join: PartitionedJoin,
    private readonly offline: OfflineStore,
    private readonly datasets: DatasetService,
    private readonly store: ObjectStore,
    private readonly documents: DocumentStore,
    private readonly encoder: ResultEncoder,
    private readonly temp: TempFiles,
    private readonly calls: ComputeCalls,
  ) {
    calls.register('training-set.save', (request: SaveRequest, context) => withWorkControl(this.queries.budget(context.signal), (stop) => this.build(request, this.queries.control(stop))));
    calls.register('training-set.verify', (name: string, context) => withWorkControl(this.queries.budget(context.signal), (stop) => this.rebuild(name, this.queries.control(stop))));
  }

  /** Builds and saves a training set, where compute runs, within the query budget; `signal` stops it (nothing is saved then). */
  async save(request: SaveRequest, signal?: AbortSignal): Promise<TrainingSetMetadata> {
    return this.calls.run('training-set.save', request, signal);
  }

  private async build(request: SaveRequest, control: QueryControl): Promise<TrainingSetMetadata> {
    if (!isIdentifier(request.name)) throw new ValidationFailedError('name: must be an identifier (letters, digits, _)', { field: 'name' });
    const prefix = trainingSetPrefix(request.name);
    if (await this.documents.get(`${prefix}metadata.json`)) throw new TrainingSetExistsError(`training set ${request.name} already exists`, { name: request.name });
    const started = Date.now();
    const catalog = await this.registry.catalog();
    const { sources, features } = await this.snapshotSources(catalog, request);
    const { query, entitySnapshot } = await this.queries.build(request, catalog, features);
    const entitiesPath = await this.temp.path('.parquet');
    const dataPath = await this.temp.path('.parquet');
    const keys = { entities: `${prefix}entities.parquet`, data: `${prefix}data.parquet` };
    try {
      const count = await this.offline.exportSpine(query, entitiesPath, control);
      // In the lake before the join: its parts may run on other workers.
      await this.store.putFile(keys.entities, entitiesPath);
      const spineDone = Date.now();
      const entityRows = { name: request.name, key: keys.entities, path: entitiesPath };
      const parts = await this.join.partsFor({ ...request, source: savedRows(entityRows) });
      const result = await this.compute(catalog, request, sources, features, entityRows, { parts, naiveTimestamps: false }, dataPath, control);
      const joinDone = Date.now();
      await this.store.putFile(keys.data, dataPath);
      const uploaded = Date.now();
      const metadata: TrainingSetMetadata = {
        format: 2,
        name: request.name,
        description: request.description,
        project: catalog.project,
        createdAt: new Date().toISOString(),
        registryVersion: catalog.registry.version,
        selection: { features: request.features, featureService: request.featureService, fullFeatureNames: request.fullFeatureNames ?? false },
        createdBeforeEvent: request.createdBeforeEvent ?? false,
        entitySource: describeSource(request, entitySnapshot),
        entityRows: { key: keys.entities, count, sha256: await this.temp.sha256(entitiesPath) },
        sources,
        features: query.selection.columns.map((c) => ({ name: c.name, view: c.viewName, feature: c.feature.name, type: c.feature.type })),
        rowCount: result.rows,
        schema: result.columns,
        data: { key: keys.data, bytes: await this.temp.size(dataPath), sha256: await this.temp.sha256(dataPath) },
        ...(parts > 1 ? { parts } : {}),
        timings: { entityRowsMs: spineDone - started, joinMs: joinDone - spineDone, uploadMs: uploaded - joinDone, totalMs: Date.now() - started },
      };
      if (!(await this.documents.create(`${prefix}metadata.json`, metadata))) {
        throw new TrainingSetExistsError(`training set ${request.name} already exists`, { name: request.name });
      }
      return metadata;
    } catch (error) {
      if (!(error instanceof TrainingSetExistsError) || !(await this.documents.get(`${prefix}metadata.json`))) await this.store.delete([keys.entities, keys.data]);
      throw error;
    } finally {
      await this.temp.remove(entitiesPath, dataPath);
    }
  }

  async list(): Promise<TrainingSetMetadata[]> {
    const names = await this.store.listFolders('training-sets/');
    const found = await Promise.all(names.map((n) => this.find(n)));
    return found.filter((m): m is TrainingSetMetadata => m !== null);
  }

  async get(name: string): Promise<TrainingSetMetadata> {
    const metadata = isIdentifier(name) ? await this.find(name) : null;
    if (!metadata) throw new TrainingSetNotFoundError(`training set ${JSON.stringify(name)} does not exist`, { name });
    return metadata;
  }

  /**
   * Deletes a saved training set: its metadata first (so it is gone for every reader at once),
   * then its entity rows and data. The dataset snapshots it pinned stay (snapshots are never
   * expired yet), so nothing else changes.
   */
  async delete(name: string): Promise<TrainingSetMetadata> {
    const metadata = await this.get(name);
    const prefix = trainingSetPrefix(name);
    await this.documents.delete([`${prefix}metadata.json`]);
    await this.store.delete([metadata.entityRows.key, metadata.data.key]);
    return metadata;
  }

  async download(name: string, format: ResultFormat): Promise<Readable> {
    const metadata = await this.get(name);
    const copy = await this.temp.copyOf(await this.store.localPath(metadata.data.key), '.parquet');
    return this.encoder.encode(copy, format, { columns: metadata.schema.map((c) => ({ name: c.name })), hidden: [] });
  }

  /** Recomputes the training set from its metadata alone and compares the Parquet bytes (within the query budget). */
  async verify(name: string, signal?: AbortSignal): Promise<Verification> {
    return this.calls.run('training-set.verify', name, signal);
  }

  private async rebuild(name: string, control: QueryControl): Promise<Verification> {
    const metadata = await this.get(name);
    const catalog = await this.queries.catalogAt(metadata.registryVersion, name);
    const features = await this.queries.pinnedFeatures(catalog, metadata.sources);
    const request = { ...metadata.selection, createdBeforeEvent: metadata.createdBeforeEvent };
    const dataPath = await this.temp.path('.parquet');
    try {
      const entityRows = { name, key: metadata.entityRows.key, path: await this.store.localPath(metadata.entityRows.key) };
      const layout = { parts: metadata.parts ?? 1, naiveTimestamps: metadata.format === 1 };
      const result = await this.compute(catalog, request, metadata.sources, features, entityRows, layout, dataPath, control);
      const rebuilt = await this.temp.sha256(dataPath);
      return { identical: rebuilt === metadata.data.sha256, rows: result.rows, savedSha256: metadata.data.sha256, rebuiltSha256: rebuilt };
    } finally {
      await this.temp.remove(dataPath);
    }
  }

  /**
   * The join over saved entity rows and snapshot-computed features: the one path both save and
   * verify take — in one piece, or in `parts` spread over the workers (the training set's entity
   * rows, `name`'s, read from the lake there). `naiveTimestamps` rebuilds a set of format 1.
   */
  private async compute(
    catalog: FeatureCatalog,
    request: Omit<HistoricalRequest, 'source'>,
    pinned: PinnedSource[],
    features: FeatureSource,
    entityRows: { name: string; key: string; path: string },
    { parts, naiveTimestamps }: { parts: number; naiveTimestamps: boolean },
    dataPath: string,
    control: QueryControl,
  ) {
    const source = savedRows(entityRows);
    if (parts > 1) {
      const plan = { registryVersion: catalog.registry.version, name: entityRows.name, request: { ...request, source }, snapshots: pinned, withMatchTimestamps: false, naiveTimestamps };
      return this.join.toParquet(plan, parts, dataPath, control);
    }
    const { query } = await this.queries.build({ ...request, source }, catalog, features);
    return this.offline.historicalToFile({ ...query, naiveTimestamps }, 'parquet', dataPath, control);
  }

  /** The latest snapshot of each selected view's dataset, pinned for this training set. */
  private async snapshotSources(catalog: FeatureCatalog, request: HistoricalRequest) {
    const sources: TrainingSetMetadata['sources'] = [];
    const map = new Map<string, SourceData>();
    for (const { view } of resolveSelection(catalog, request).views) {
      const snapshot = await this.datasets.snapshot(view.dataset.name);
      if (!snapshot) throw new DatasetNotFoundError(`dataset ${view.dataset.name} of feature view ${view.def.name} has no data yet`, { dataset: view.dataset.name });
      sources.push({ view: view.def.name, dataset: view.dataset.name, snapshotId: snapshot.snapshotId });
      map.set(view.def.name, { dataset: view.dataset, files: await this.datasets.localFiles(snapshot) });
    }
    return { sources, features: { kind: 'snapshots', sources: map } as FeatureSource };
  }

  private async find(name: string): Promise<TrainingSetMetadata | null> {
    return this.documents.get<TrainingSetMetadata>(`${trainingSetPrefix(name)}metadata.json`);
  }
}

/** A saved training set's entity rows as a join reads them: the local copy, and the lake object other workers read. */
function savedRows(rows: { key: string; path: string }): EntitySource {
  return { kind: 'file', path: rows.path, key: rows.key, format: 'parquet', name: SAVED_ROWS };
}

function describeSource(request: HistoricalRequest, entitySnapshot: { dataset: string; snapshotId: number } | null): Record<string, unknown> {
  const source = request.source;
  switch (source.kind) {
    case 'columns':
      return { kind: 'entities' };
    case 'file':
      return { kind: 'file', name: source.name };
    case 'range':
      return { kind: 'time_range', start: formatTimestamp(source.start), end: formatTimestamp(source.end) };
    case 'dataset':
      return { kind: 'entity_dataset', dataset: source.dataset, snapshot_id: entitySnapshot?.snapshotId, filters: source.filters, key_columns: source.keyColumns };
  }
}
