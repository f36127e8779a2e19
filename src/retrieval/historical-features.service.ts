import { Injectable } from '@nestjs/common';
import { createWriteStream } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { TempFiles } from '../common/temp-files';
import { withWorkControl } from '../common/work-control';
import { FeatureCatalog } from '../core/catalog';
import { EVENT_TIMESTAMP } from '../core/definitions';
import { SelectionRequest } from '../core/feature-selection';
import { FieldStatus } from '../core/online-status';
import { NO_TIMESTAMP } from '../core/online-response';
import { formatTimestamp } from '../core/timestamp';
import { toJsonValue, Value } from '../core/value-types';
import { HistoricalQuery, OfflineStore, QueryControl, ResultFile } from '../offline-store/offline-store';
import { CallContext } from '../queue/job-queue';
import { ComputeCalls } from '../queue/compute-calls';
import { RegistryService } from '../registry/registry.service';
import { ScratchObjects } from '../storage/scratch-objects';
import { BuiltQuery, HistoricalQueries, HistoricalRequest } from './historical-queries';
import { JoinPlan, PartitionedJoin } from './partitioned-join';
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

/**
 * Point-in-time correct training data from any entity source, in any result format, streamed:
 * the engine writes the result to a file and it leaves as a stream, never as JS rows.
 */
@Injectable()
export class HistoricalFeaturesService {
  constructor(
    private readonly queries: HistoricalQueries,
    private readonly join: PartitionedJoin,
    private readonly registry: RegistryService,
    private readonly offline: OfflineStore,
    private readonly encoder: ResultEncoder,
    private readonly temp: TempFiles,
    private readonly calls: ComputeCalls,
    private readonly scratch: ScratchObjects,
  ) {
    calls.register('historical.retrieve', (input: { request: HistoricalRequest; format: ResultFormat }, context) => this.compute(input.request, input.format, context));
  }

  /** Small in-memory answers for JSON entity columns (tests, checks); HTTP streams through `retrieve`. */
  async columns(request: SelectionRequest & { entities: Record<string, unknown>; createdBeforeEvent?: boolean }): Promise<HistoricalResponse> {
    const { query } = await this.queries.build({ ...request, source: { kind: 'columns', columns: request.entities } }, await this.registry.catalog());
    const result = await this.offline.historicalColumns(query);
    const rowTimes = result.eventTimestamps.map(formatTimestamp);
    const entity = (values: Value[], type: Parameters<typeof toJsonValue>[1]) => ({
      values: values.map((v) => toJsonValue(v, type)),
      statuses: values.map(() => 'PRESENT' as const),
      event_timestamps: rowTimes,
    });
    return {
      metadata: { feature_names: [...result.entityColumns.map((c) => c.key.name), ...result.extraColumns.map((c) => c.name), EVENT_TIMESTAMP, ...result.features.map((f) => f.column.name)] },
      results: [
        ...result.entityColumns.map((c) => entity(c.values, c.key.type)),
        ...result.extraColumns.map((c) => entity(c.values, c.type)),
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
    return withWorkControl(this.queries.budget(signal), async (stop) => {
      const catalog = await this.registry.catalog();
      const built = await this.queries.build(request, catalog);
      const query = built.query;
      const path = await this.temp.path('.parquet');
      try {
        const result = await this.joinToFile(request, built, catalog, path, format === 'json', this.queries.control(stop));
        const stream = await this.encoder.encode(path, format, layoutOf(result, query), this.queries.control(stop));
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
      return withWorkControl(this.queries.budget(), async (stop) => {
        const { query } = await this.queries.build(request, await this.registry.catalog());
        return (await this.offline.historicalToFile(query, format === 'jsonl' ? 'json' : format, outputPath, this.queries.control(stop))).rows;
      });
    }
    const result = await this.retrieve(request, format);
    await pipeline(result.stream, createWriteStream(outputPath));
    return result.rows;
  }

  /**
   * The join to a Parquet file: in parts over the workers (partitioned-join.ts) where they
   * spread, with the entity rows pinned so that every part reads the same ones.
   */
  private async joinToFile(request: HistoricalRequest, built: BuiltQuery, catalog: FeatureCatalog, path: string, withMatchTimestamps: boolean, control: QueryControl): Promise<ResultFile> {
    const source = request.source;
    const parts = await this.join.partsFor(request);
    if (parts === 1) return this.offline.historicalToFile(built.query, 'parquet', path, { withMatchTimestamps, ...control });
    const pinned = source.kind === 'dataset' && built.entitySnapshot ? { ...source, snapshotId: built.entitySnapshot.snapshotId } : source;
    const plan: JoinPlan = { registryVersion: catalog.registry.version, name: 'retrieval', request: { ...request, source: pinned }, withMatchTimestamps };
    return this.join.toParquet(plan, parts, path, control);
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
