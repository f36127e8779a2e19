import { Injectable } from '@nestjs/common';
import { SkewSideEmptyError } from '../../common/errors';
import { TempFiles } from '../../common/temp-files';
import { FeatureCatalog } from '../../core/catalog';
import { resolveSelection } from '../../core/feature-selection';
import { ConsistencyResult } from '../../core/skew/skew-result';
import { resolveWindow, SideSpec } from '../../core/skew/skew-spec';
import { Micros } from '../../core/timestamp';
import { OfflineStore, QueryControl } from '../../offline-store/offline-store';
import { AppConfig } from '../../config/app-config';
import { REQUEST_TIME } from '../logging/feature-log';
import { SkewEngine } from './skew-engine';
import { SkewSides } from './skew-sides';

/**
 * Online/offline consistency, as Chronon measures it: the logged requests become the entity rows
 * of a point-in-time join at their request time, and each served value is compared with the
 * offline value the same definitions give for that moment. The join and the comparison both run
 * in the engine; only per-feature counts and a few example rows come back.
 */
@Injectable()
export class ConsistencyCheck {
  constructor(
    private readonly config: AppConfig,
    private readonly sides: SkewSides,
    private readonly offline: OfflineStore,
    private readonly engine: SkewEngine,
    private readonly temp: TempFiles,
  ) {}

  async run(catalog: FeatureCatalog, side: Extract<SideSpec, { kind: 'serving_logs' }>, threshold: number, now: Micros, control: QueryControl = {}): Promise<ConsistencyResult> {
    const { shape, files } = await this.sides.servingLog(catalog, side.featureService);
    const window = resolveWindow(side.window, now);
    const selection = resolveSelection(catalog, { features: shape.features.map((f) => `${f.view}:${f.feature}`), fullFeatureNames: true });
    const path = await this.temp.path('.parquet');
    try {
      const joined = await this.offline.historicalToFile(
        {
          spine: { kind: 'dataset', name: shape.dataset.name, files, timestampColumn: REQUEST_TIME, keyColumns: {}, start: window.start, end: window.end, filters: [] },
          selection,
          maxEntityRows: this.config.limits.maxEntityRows,
        },
        'parquet',
        path,
        control,
      );
      if (joined.rows === 0) throw new SkewSideEmptyError(`serving logs of ${side.featureService} have no rows in the window`, { feature_service: side.featureService });
      const pairs = shape.features.map((f) => {
        const column = selection.columns.find((c) => c.viewName === f.view && c.feature.name === f.feature);
        return { feature: `${f.view}:${f.feature}`, type: f.type, servedColumn: f.column, offlineColumn: column!.name };
      });
      const features = await this.engine.compareServed(path, pairs, shape.keys.map((k) => k.name), REQUEST_TIME, threshold, control.signal);
      return { passed: features.every((f) => f.passed), feature_service: side.featureService, threshold, rows: joined.rows, features };
    } finally {
      await this.temp.remove(path);
    }
  }
}
