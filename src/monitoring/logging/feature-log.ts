import { createHash } from 'node:crypto';
import { DatasetDef, JoinKeyDef } from '../../core/definitions';
import { FeatureSelection } from '../../core/feature-selection';
import { ValueType } from '../../core/value-types';

/** A column of a feature log: typed like the feature (or key) it holds. */
export interface LogColumn {
  name: string;
  type: ValueType;
}

/**
 * The shape of a feature service's log dataset: `request_id`, `request_time`, the join keys, per
 * served feature its value (`served__<view>__<feature>`, null unless its view's row was PRESENT)
 * and per view the row's status (`status__<view>`: PRESENT, NOT_FOUND or OUTSIDE_MAX_AGE; a null
 * value of a PRESENT row was served as NULL_VALUE). One dataset per service shape, so a changed
 * service starts a new log instead of breaking the old one's schema.
 */
export interface LogShape {
  service: string;
  dataset: DatasetDef;
  keys: LogColumn[];
  views: { name: string; statusColumn: string; ttlSeconds: number | null }[];
  /** `viewIndex` and `featureIndex` locate the value in the online records of a served request. */
  features: { column: string; view: string; feature: string; type: ValueType; viewIndex: number; featureIndex: number }[];
}

export const REQUEST_TIME = 'request_time';
export const REQUEST_ID = 'request_id';

export function servedColumn(view: string, feature: string): string {
  return `served__${view}__${feature}`;
}

export function logShape(service: string, selection: FeatureSelection): LogShape {
  const features = selection.columns.map((c) => {
    const viewIndex = selection.views.findIndex((v) => v.view.def.name === c.viewName);
    const featureIndex = selection.views[viewIndex].view.def.features.indexOf(c.feature);
    return { column: servedColumn(c.viewName, c.feature.name), view: c.viewName, feature: c.feature.name, type: c.feature.type, viewIndex, featureIndex };
  });
  const keys = selection.joinKeys.map((k: JoinKeyDef) => ({ name: k.name, type: k.type }));
  const views = selection.views.map(({ view }) => ({ name: view.def.name, statusColumn: `status__${view.def.name}`, ttlSeconds: view.def.ttlSeconds }));
  const fingerprint = createHash('sha256')
    .update(JSON.stringify({ keys, features: features.map((f) => [f.column, f.type]) }))
    .digest('hex')
    .slice(0, 8);
  return { service, dataset: { name: `_log_${service}_${fingerprint}`, timestampField: REQUEST_TIME }, keys, views, features };
}


const LOG_DATASET = /^_log_(.+)_[0-9a-f]{8}$/;

/** The feature service whose log a dataset is (`_log_<service>_<fingerprint>`), or null for any other dataset. */
export function logDatasetService(dataset: string): string | null {
  return LOG_DATASET.exec(dataset)?.[1] ?? null;
}
