import { Injectable } from '@nestjs/common';
import { createWriteStream } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { DatasetNotFoundError, ValidationFailedError } from '../common/errors';
import { TempFiles } from '../common/temp-files';
import { WorkBudget, withWorkControl } from '../common/work-control';
import { AppConfig } from '../config/app-config';
import { FeatureCatalog } from '../core/catalog';
import { EVENT_TIMESTAMP } from '../core/definitions';
import { parseEntityRows } from '../core/entity-rows';
import { resolveSelection, SelectionRequest } from '../core/feature-selection';
import { FieldStatus } from '../core/online-status';
import { NO_TIMESTAMP } from '../core/online-response';
import { formatTimestamp } from '../core/timestamp';
import { toJsonValue, Value } from '../core/value-types';
import { DatasetService } from '../lake/dataset.service';
import { DatasetSnapshot } from '../lake/dataset-manifest';
import { FeatureSource, HistoricalQuery, OfflineStore, QueryControl, ResultFile, Spine } from '../offline-store/offline-store';
import { CallContext } from '../queue/job-queue';
import { ComputeCalls } from '../queue/compute-calls';
import { RegistryService } from '../registry/registry.service';
import { ScratchObjects } from '../storage/scratch-objects';
import { EntitySource } from './entity-source';
import { ResultEncoder, ResultFormat, ResultLayout } from './result-encoder';

/** What a worker hands back for a retrieval: the encoded result, in this process (a stream) or in the lake (a scratch key). */
interface RetrievedResult {
  rows: number;
  format: ResultFormat;
  columns: ResultFile['columns'];
  stream?: Readable;
  key?: string;
}

const EXTENSIONS: Record<ResultFormat, string> = { json: '.json', jsonl: '.jsonl', csv: '.csv', parquet: '.parquet', arrow: '.arrow' };

export interface HistoricalRequest extends SelectionRequest {
  source: EntitySource;
  /** Only feature rows created at or before each entity row's time. */
  createdBeforeEvent?: boolean;
}

/** Same shape as the online response: column-major, entity columns first, rows in input order. */
export interface HistoricalResponse {
  metadata: { feature_names: string[] };
  results: { values: Value[]; statuses: FieldStatus[]; event_timestamps: string[] }[];
}

export interface HistoricalResult {
  stream: Readable;
  rows: number;
  format: ResultFormat;
  columns: ResultFile['columns'];
}

/** What a query read: the spine's dataset snapshot, if any. */
export interface BuiltQuery {
  query: HistoricalQuery;
  entitySnapshot: { dataset: string; snapshotId: number } | null;
}

/**
 * Point-in-time correct training data from any entity source, in any result format, streamed:
 * the engine writes the result to a file and it leaves as a stream, never as JS rows.
 */
@Injectable()
export class HistoricalFeaturesService {
  constructor(
    private readonly config: AppConfig,
    private readonly registry: RegistryService,
    private readonly offline: OfflineStore,
    private readonly datasets: DatasetService,
    private readonly encoder: ResultEncoder,
    private readonly temp: TempFiles,
    private readonly calls: ComputeCalls,
    private readonly scratch: ScratchObjects,
  ) {
    calls.register('historical.retrieve', (input: { request: HistoricalRequest; format: ResultFormat }, context) => this.compute(input.request, input.format, context));
  }

  /** Small in-memory answers for JSON entity columns (tests, checks); HTTP streams through `retrieve`. */
  async columns(request: SelectionRequest & { entities: Record<string, unknown>; createdBeforeEvent?: boolean }): Promise<HistoricalResponse> {
    const { query } = await this.build({ ...request, source: { kind: 'columns', columns: request.entities } }, await this.registry.catalog());
    const result = await this.offline.historicalColumns(query);
    const rowTimes = result.eventTimestamps.map(formatTimestamp);
    const entity = (values: Value[], type: Parameters<typeof toJsonValue>[1]) => ({
      values: values.map((v) => toJsonValue(v, type)),
      statuses: values.map(() => 'PRESENT' as const),
      event_timestamps: rowTimes,
    });
    return {
      metadata: { feature_names: [...result.entityColumns.map((c) => c.key.name), EVENT_TIMESTAMP, ...result.features.map((f) => f.column.name)] },
      results: [
        ...result.entityColumns.map((c) => entity(c.values, c.key.type)),
        entity(result.eventTimestamps, 'timestamp'),
        ...result.features.map(({ column, values, matchedAt }) => ({
          values: values.map((v) => toJsonValue(v, column.feature.type)),
          statuses: values.map((v, i): FieldStatus => (matchedAt[i] === null ? 'NOT_FOUND' : v === null ? 'NULL_VALUE' : 'PRESENT')),
          event_timestamps: matchedAt.map((t) => (t === null ? NO_TIMESTAMP : formatTimestamp(t))),
        })),
      ],
    };
  }

  /**
   * The result as a stream in `format`, computed where compute runs (a worker, with a Redis
   * queue; this process otherwise). An uploaded entity file travels to the worker through the
   * lake, and so does the result on its way back. The engine work runs within
   * `limits.query_timeout_seconds` and `limits.max_result_bytes`, and stops when `signal` fires
   * (the client left, the server is stopping).
   */
  async retrieve(request: HistoricalRequest, format: ResultFormat, signal?: AbortSignal): Promise<HistoricalResult> {
    const source = request.source;
    const upload = this.calls.remote && source.kind === 'file' ? await this.scratch.put('uploads', source.path, `.${source.format}`) : null;
    try {
      const shipped = upload && source.kind === 'file' ? { ...request, source: { ...source, path: '', key: upload } } : request;
      const result = await this.calls.run<unknown, RetrievedResult>('historical.retrieve', { request: shipped, format }, signal);
      const stream = result.stream ?? (await this.scratch.take(result.key!));
      return { stream, rows: result.rows, format: result.format, columns: result.columns };
    } finally {
      if (upload) await this.scratch.remove(upload);
    }
  }

  /** The call itself, on whichever process runs it: the result encoded, and left in the lake when the caller is elsewhere. */
  private async compute(request: HistoricalRequest, format: ResultFormat, context: CallContext): Promise<RetrievedResult> {
    const source = request.source;
    const fetched = source.kind === 'file' && source.key ? await this.scratch.fetch(source.key, `.${source.format}`) : null;
    try {
      const local = fetched && source.kind === 'file' ? { ...request, source: { ...source, path: fetched } } : request;
      const result = await this.encoded(local, format, context.signal);
      if (!context.remote) return result;
      const file = await this.temp.path(EXTENSIONS[format]);
      try {
        await pipeline(result.stream!, createWriteStream(file));
        return { rows: result.rows, format, columns: result.columns, key: await this.scratch.put('results', file, EXTENSIONS[format]) };
      } finally {
        await this.temp.remove(file);
      }
    } finally {
      if (fetched) await this.temp.remove(fetched);
    }
  }

  /** The point-in-time join to a Parquet file, then encoded as a stream; the intermediate file is deleted when the stream closes. */
  private async encoded(request: HistoricalRequest, format: ResultFormat, signal?: AbortSignal): Promise<RetrievedResult> {
    return withWorkControl(this.budget(signal), async (stop) => {
      const { query } = await this.build(request, await this.registry.catalog());
      const path = await this.temp.path('.parquet');
      try {
        const result = await this.offline.historicalToFile(query, 'parquet', path, { withMatchTimestamps: format === 'json', ...this.control(stop) });
        const stream = await this.encoder.encode(path, format, layoutOf(result, query), this.control(stop));
        return { stream, rows: result.rows, format, columns: result.columns.filter((c) => !c.name.startsWith('__ts_')) };
      } catch (error) {
        await this.temp.remove(path);
        throw error;
      }
    });
  }

  /** CLI: the result written to a local file (Parquet, CSV and JSON Lines by the engine directly). */
  async toFile(request: HistoricalRequest, format: ResultFormat, outputPath: string): Promise<number> {
    if (format === 'parquet' || format === 'csv' || format === 'jsonl') {
      return withWorkControl(this.budget(), async (stop) => {
        const { query } = await this.build(request, await this.registry.catalog());
        return (await this.offline.historicalToFile(query, format === 'jsonl' ? 'json' : format, outputPath, this.control(stop))).rows;
      });
    }
    const result = await this.retrieve(request, format);
    await pipeline(result.stream, createWriteStream(outputPath));
    return result.rows;
  }

  /** The wall-clock budget of a request's engine work, stopped early by `signal`. */
  budget(signal?: AbortSignal): WorkBudget {
    return { signals: [signal], timeout: { seconds: this.config.limits.queryTimeoutSeconds, field: 'limits.query_timeout_seconds' } };
  }

  /** How a query under `signal` writes its result: stopped by it, and bounded in size. */
  control(signal: AbortSignal): QueryControl {
    return { signal, maxResultBytes: this.config.limits.maxResultBytes };
  }

  /**
   * The query for a request against a registry version: the selection, the spine (a dataset
   * source resolved to one snapshot's local files), and where feature rows come from.
   */
  async build(request: HistoricalRequest, catalog: FeatureCatalog, features?: FeatureSource): Promise<BuiltQuery> {
    const selection = resolveSelection(catalog, request);
    const { spine, entitySnapshot } = await this.spine(request.source, catalog, selection.joinKeys);
    return { query: { spine, selection, createdBeforeEvent: request.createdBeforeEvent ?? false, features, maxEntityRows: this.config.limits.maxEntityRows }, entitySnapshot };
  }

  private async spine(source: EntitySource, catalog: FeatureCatalog, keys: HistoricalQuery['selection']['joinKeys']): Promise<{ spine: Spine; entitySnapshot: BuiltQuery['entitySnapshot'] }> {
    switch (source.kind) {
      case 'columns':
        return { spine: { kind: 'rows', rows: parseEntityRows(source.columns, keys, { withTimestamps: true, maxRows: { max: this.config.limits.maxHistoricalRows, field: 'limits.max_historical_rows' } }) }, entitySnapshot: null };
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

/** Which columns of the result file are output, and where each feature's match time is. */
function layoutOf(result: ResultFile, query: HistoricalQuery): ResultLayout {
  const features = new Map(query.selection.columns.map((c) => [c.name, query.selection.views.findIndex((v) => v.view.def.name === c.viewName)]));
  const visible = result.columns.filter((c) => !c.name.startsWith('__ts_'));
  return {
    columns: visible.map((c) => (features.has(c.name) && result.columns.some((r) => r.name === `__ts_${features.get(c.name)}`) ? { name: c.name, matchedAt: `__ts_${features.get(c.name)}` } : { name: c.name })),
    hidden: result.columns.filter((c) => c.name.startsWith('__ts_')).map((c) => c.name),
  };
}
