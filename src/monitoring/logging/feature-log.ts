import { createHash } from 'node:crypto';
import { DatasetDef, JoinKeyDef } from '../../core/definitions';
import { FeatureSelection } from '../../core/feature-selection';
import { FieldStatus } from '../../core/online-status';
import { Micros } from '../../core/timestamp';
import { Value, ValueType } from '../../core/value-types';

/** A column of a feature log: typed like the feature (or key) it holds. */
export interface LogColumn {
  name: string;
  type: ValueType;
}

/**
 * The shape of a feature service's log: request id and time, the join keys, then per served
 * feature its value (`served__<view>__<feature>`, null unless PRESENT) and status
 * (`…__status`). One log dataset per service shape, so a changed service starts a new log.
 */
export interface LogShape {
  service: string;
  dataset: DatasetDef;
  keys: LogColumn[];
  features: { column: string; view: string; feature: string; type: ValueType }[];
}

export const REQUEST_TIME = 'request_time';
export const REQUEST_ID = 'request_id';

export function servedColumn(view: string, feature: string): string {
  return `served__${view}__${feature}`;
}

export function logShape(service: string, selection: FeatureSelection): LogShape {
  const features = selection.columns.map((c) => ({ column: servedColumn(c.viewName, c.feature.name), view: c.viewName, feature: c.feature.name, type: c.feature.type }));
  const keys = selection.joinKeys.map((k: JoinKeyDef) => ({ name: k.name, type: k.type }));
  const fingerprint = createHash('sha256').update(JSON.stringify({ keys, features })).digest('hex').slice(0, 8);
  return { service, dataset: { name: `_log_${service}_${fingerprint}`, timestampField: REQUEST_TIME }, keys, features };
}

/** One logged row: an entity row of a served request. */
export interface LogRow {
  requestId: string;
  requestTime: Micros;
  keys: Value[];
  values: Value[];
  statuses: FieldStatus[];
}
