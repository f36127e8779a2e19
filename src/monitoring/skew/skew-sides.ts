import { Injectable } from '@nestjs/common';
import { DatasetNotFoundError, SkewSideEmptyError } from '../../common/errors';
import { TempFiles } from '../../common/temp-files';
import { FeatureCatalog } from '../../core/catalog';
import { DriftOverride } from '../../core/definitions';
import { resolveSelection } from '../../core/feature-selection';
import { SideColumn } from '../../core/skew/schema-skew';
import { SideSummary } from '../../core/skew/skew-result';
import { resolveWindow, SideSpec, WindowSpec } from '../../core/skew/skew-spec';
import { formatTimestamp, Micros } from '../../core/timestamp';
import { DatasetService } from '../../lake/dataset.service';
import { OfflineStore, QueryControl } from '../../offline-store/offline-store';
import { TrainingSetsService } from '../../retrieval/training-sets.service';
import { logShape, LogShape, REQUEST_TIME } from '../logging/feature-log';
import { SideRelation, SkewEngine } from './skew-engine';

/** A side ready to compare: its files, the feature each column holds, and temp files to remove afterwards. */
export interface ResolvedSide {
  summary: SideSummary;
  relation: SideRelation;
  columns: SideColumn[];
  temp: string[];
}

/** Where each kind of side finds its rows (all as local Parquet files the engine reads). */
@Injectable()
export class SkewSides {
  constructor(
    private readonly datasets: DatasetService,
    private readonly trainingSets: TrainingSetsService,
    private readonly offline: OfflineStore,
    private readonly engine: SkewEngine,
    private readonly temp: TempFiles,
  ) {}

  async resolve(spec: SideSpec, catalog: FeatureCatalog, now: Micros, control: QueryControl = {}): Promise<ResolvedSide> {
    const located = await this.locate(spec, catalog, now, control);
    try {
      const described = await this.engine.describe(located.relation, control.signal);
      const rows = await this.engine.count(located.relation, control.signal);
      if (rows === 0) throw new SkewSideEmptyError(`${located.label} has no rows${located.windowText}`, { side: located.spec });
      const columns = located.features
        ? located.features.flatMap(({ feature, column }) => described.filter((d) => d.name === column).map((d) => ({ feature, column, type: d.type })))
        : described.filter((d) => !located.exclude.includes(d.name)).map((d) => ({ feature: d.name, column: d.name, type: d.type }));
      return { summary: { kind: spec.kind, label: located.label, spec: located.spec, rows }, relation: located.relation, columns, temp: located.temp };
    } catch (error) {
      await this.temp.remove(...located.temp);
      throw error;
    }
  }

  /** The feature log of a feature service as it is defined now (a changed service starts a new log). */
  async servingLog(catalog: FeatureCatalog, featureService: string): Promise<{ shape: LogShape; files: string[] }> {
    const shape = logShape(featureService, resolveSelection(catalog, { featureService }));
    const snapshot = await this.datasets.snapshot(shape.dataset.name);
    if (!snapshot) {
      const logging = catalog.featureService(featureService).logging;
      const hint = logging ? 'nothing has been logged yet' : 'it has no logging: set logging.sample_rate on the feature service';
      throw new SkewSideEmptyError(`serving logs of feature service ${featureService}: ${hint}`, { feature_service: featureService });
    }
    return { shape, files: await this.datasets.localFiles(snapshot) };
  }

  private async locate(spec: SideSpec, catalog: FeatureCatalog, now: Micros, control: QueryControl): Promise<Located> {
    switch (spec.kind) {
      case 'training_set': {
        const metadata = await this.trainingSets.get(spec.name);
        const file = await this.datasets.localPath(metadata.data.key);
        const features = metadata.features.map((f) => ({ feature: `${f.view}:${f.feature}`, column: f.name }));
        return located(`training set ${spec.name}`, { training_set: spec.name }, { files: [file] }, features);
      }
      case 'serving_logs': {
        const { shape, files } = await this.servingLog(catalog, spec.featureService);
        const window = resolveWindow(spec.window, now);
        const features = shape.features.map((f) => ({ feature: `${f.view}:${f.feature}`, column: f.column }));
        return located(`serving logs of ${spec.featureService}`, { serving_logs: { feature_service: spec.featureService, ...windowJson(window) } }, { files, window: { column: REQUEST_TIME, ...window } }, features, windowText(spec.window, window));
      }
      case 'dataset': {
        const snapshot = await this.datasets.snapshot(spec.name, spec.snapshotId);
        if (!snapshot) throw new DatasetNotFoundError(`dataset ${spec.name} has no ${spec.snapshotId === undefined ? 'data yet' : `snapshot ${spec.snapshotId}`}`, { dataset: spec.name });
        const declared = catalog.registry.datasets.find((d) => d.name === spec.name);
        const side = located(`dataset ${spec.name} @ snapshot ${snapshot.snapshotId}`, { dataset: { name: spec.name, snapshot_id: snapshot.snapshotId } }, { files: await this.datasets.localFiles(snapshot) }, null);
        side.exclude = [declared?.timestampField, declared?.createdTimestampField].filter((f): f is string => f !== undefined);
        return side;
      }
      case 'feature_view': {
        const view = catalog.view(spec.name);
        const window = resolveWindow(spec.window, now);
        const path = await this.temp.path('.parquet');
        try {
          await this.offline.viewRowsToFile(view, window, path, control);
        } catch (error) {
          await this.temp.remove(path);
          throw error;
        }
        const features = view.def.features.map((f) => ({ feature: `${view.def.name}:${f.name}`, column: f.name }));
        const side = located(`feature view ${spec.name}`, { feature_view: { name: spec.name, ...windowJson(window) } }, { files: [path] }, features, windowText(spec.window, window));
        side.temp = [path];
        return side;
      }
    }
  }
}

/** Drift overrides declared on the feature views of the compared features. */
export function driftOverrides(catalog: FeatureCatalog): Map<string, DriftOverride> {
  return new Map(catalog.allViews().flatMap((v) => (v.def.drift ? [[v.def.name, v.def.drift] as const] : [])));
}

interface Located {
  label: string;
  spec: Record<string, unknown>;
  relation: SideRelation;
  /** Feature → column, or null: every column is a feature (a dataset), but `exclude`. */
  features: { feature: string; column: string }[] | null;
  exclude: string[];
  temp: string[];
  windowText: string;
}

function located(label: string, spec: Record<string, unknown>, relation: SideRelation, features: Located['features'], windowText = ''): Located {
  return { label, spec, relation, features, exclude: [], temp: [], windowText };
}

function windowJson(window: { start?: Micros; end?: Micros }): Record<string, string> {
  return { ...(window.start !== undefined && { start: formatTimestamp(window.start) }), ...(window.end !== undefined && { end: formatTimestamp(window.end) }) };
}

function windowText(spec: WindowSpec, window: { start?: Micros; end?: Micros }): string {
  if (window.start === undefined && window.end === undefined) return '';
  return ` between ${window.start === undefined ? 'the beginning' : formatTimestamp(window.start)} and ${window.end === undefined ? 'now' : formatTimestamp(window.end)}${spec.lastSeconds ? ` (last ${spec.lastSeconds} s)` : ''}`;
}
