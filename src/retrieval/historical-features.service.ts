import { Injectable } from '@nestjs/common';
import { Readable } from 'node:stream';
import { readOnceAndDelete, TempFiles } from '../common/temp-files';
import { AppConfig } from '../config/app-config';
import { EVENT_TIMESTAMP } from '../core/definitions';
import { parseEntityRows } from '../core/entity-rows';
import { resolveSelection, SelectionRequest } from '../core/feature-selection';
import { FieldStatus } from '../core/online-status';
import { formatTimestamp } from '../core/timestamp';
import { toJsonValue, Value } from '../core/value-types';
import { FileFormat } from '../lake/dataset-manifest';
import { HistoricalQuery, OfflineStore, OutputFormat, Spine } from '../offline-store/offline-store';
import { RegistryService } from '../registry/registry.service';

export interface HistoricalRequest extends SelectionRequest {
  /** Column-major entity rows: join keys and `event_timestamp`. */
  entities: Record<string, unknown>;
}

/** Entity rows from a local file (CLI): read by DuckDB, other columns (labels) carried along. */
export interface HistoricalFileRequest extends SelectionRequest {
  entitiesFile: { path: string; format: FileFormat; name: string };
}

/** Same shape as the online response: column-major, entity columns first, rows in input order. */
export interface HistoricalResponse {
  metadata: { feature_names: string[] };
  results: { values: Value[]; statuses: FieldStatus[]; event_timestamps: string[] }[];
}

export interface HistoricalFile {
  stream: Readable;
  rows: number;
  format: OutputFormat;
}

const NO_TIMESTAMP = '1970-01-01T00:00:00Z';

/** Point-in-time correct training data, as JSON columns or a file written by the engine. */
@Injectable()
export class HistoricalFeaturesService {
  constructor(
    private readonly config: AppConfig,
    private readonly registry: RegistryService,
    private readonly offline: OfflineStore,
    private readonly temp: TempFiles,
  ) {}

  async columns(request: HistoricalRequest): Promise<HistoricalResponse> {
    const query = await this.query(request);
    const result = await this.offline.historicalColumns(query);
    const rowTimes = result.eventTimestamps.map(formatTimestamp);
    const entity = (values: Value[], type: Parameters<typeof toJsonValue>[1]) => ({
      values: values.map((v) => toJsonValue(v, type)),
      statuses: values.map(() => 'PRESENT' as const),
      event_timestamps: rowTimes,
    });
    return {
      metadata: {
        feature_names: [...result.entityColumns.map((c) => c.key.name), EVENT_TIMESTAMP, ...result.features.map((f) => f.column.name)],
      },
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

  /** Writes the result to a temp file and hands back a stream that deletes it when done. */
  async file(request: HistoricalRequest, format: OutputFormat): Promise<HistoricalFile> {
    const path = await this.temp.path(`.${format}`);
    try {
      const rows = await this.offline.historicalToFile(await this.query(request), format, path);
      return { stream: readOnceAndDelete(path), rows, format };
    } catch (error) {
      await this.temp.remove(path);
      throw error;
    }
  }

  /** CLI: entity rows from a file, result written to `outputPath`. */
  async fileToFile(request: HistoricalFileRequest, format: OutputFormat, outputPath: string): Promise<number> {
    const catalog = await this.registry.catalog();
    const selection = resolveSelection(catalog, request);
    const spine: Spine = { kind: 'file', ...request.entitiesFile };
    return this.offline.historicalToFile({ spine, selection }, format, outputPath);
  }

  private async query(request: HistoricalRequest): Promise<HistoricalQuery> {
    const catalog = await this.registry.catalog();
    const selection = resolveSelection(catalog, request);
    const rows = parseEntityRows(request.entities, selection.joinKeys, {
      withTimestamps: true,
      maxRows: this.config.limits.maxHistoricalRows,
    });
    return { spine: { kind: 'rows', rows }, selection };
  }
}
