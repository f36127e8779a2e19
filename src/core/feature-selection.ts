import {
  FeatureNameCollisionError,
  FeatureNotFoundError,
  InvalidFeatureRefError,
  ValidationFailedError,
} from '../common/errors';
import { FeatureCatalog, ResolvedView } from './catalog';
import { FeatureDef, JoinKeyDef } from './definitions';

export interface SelectedView {
  view: ResolvedView;
  features: FeatureDef[];
}

export interface OutputColumn {
  viewName: string;
  feature: FeatureDef;
  /** `feature`, or `view__feature` with full feature names (Feast's spelling). */
  name: string;
}

/** What a read asks for: the views to touch, the output columns in request order, the keys needed. */
export interface FeatureSelection {
  views: SelectedView[];
  columns: OutputColumn[];
  joinKeys: JoinKeyDef[];
}

export interface SelectionRequest {
  features?: string[];
  featureService?: string;
  fullFeatureNames?: boolean;
}

const cache = new WeakMap<FeatureCatalog, Map<string, FeatureSelection>>();
const CACHE_LIMIT = 1000;

/**
 * resolveSelection, remembered per registry version: serving resolves the same few feature
 * lists on every request. Selections are never mutated, so they can be shared; a new registry
 * version is a new catalog and starts a new cache.
 */
export function resolveSelectionCached(catalog: FeatureCatalog, request: SelectionRequest): FeatureSelection {
  const key = `${request.fullFeatureNames ? 1 : 0}|${request.featureService ?? ''}|${request.features?.join(',') ?? ''}|${request.features === undefined ? 0 : 1}`;
  let selections = cache.get(catalog);
  if (!selections) cache.set(catalog, (selections = new Map()));
  const known = selections.get(key);
  if (known) return known;
  const selection = resolveSelection(catalog, request);
  if (selections.size < CACHE_LIMIT) selections.set(key, selection);
  return selection;
}

/**
 * Resolves `features` (`view:feature` refs) or a feature service into a selection. Exactly one
 * of the two must be given, as in Feast. Output names must be unique: two views that share a
 * feature name need `full_feature_names`, and the error says so.
 */
export function resolveSelection(catalog: FeatureCatalog, request: SelectionRequest): FeatureSelection {
  const refs = requestedRefs(catalog, request);
  const byView = new Map<string, SelectedView>();
  const columns: OutputColumn[] = [];
  for (const ref of refs) {
    const [viewName, featureName] = splitRef(ref);
    const view = catalog.view(viewName);
    const names = featureName === '*' ? view.def.features.map((f) => f.name) : [featureName];
    for (const name of names) {
      const feature = view.def.features.find((f) => f.name === name);
      if (!feature) {
        throw new FeatureNotFoundError(`feature view ${viewName} has no feature ${JSON.stringify(name)}`, {
          feature: `${viewName}:${name}`,
        });
      }
      const selected = byView.get(viewName) ?? { view, features: [] };
      byView.set(viewName, selected);
      selected.features.push(feature);
      columns.push({ viewName, feature, name: request.fullFeatureNames ? `${viewName}__${name}` : name });
    }
  }
  assertUniqueNames(columns);
  const views = [...byView.values()];
  return { views, columns, joinKeys: unionJoinKeys(views) };
}

function requestedRefs(catalog: FeatureCatalog, request: SelectionRequest): string[] {
  const hasFeatures = request.features !== undefined;
  const hasService = request.featureService !== undefined;
  if (hasFeatures === hasService) {
    throw new ValidationFailedError('give exactly one of features and feature_service', {
      fields: ['features', 'feature_service'],
    });
  }
  if (hasService) {
    return catalog.featureService(request.featureService as string).features.map((f) => (f.includes(':') ? f : `${f}:*`));
  }
  if ((request.features as string[]).length === 0) {
    throw new ValidationFailedError('features: give at least one feature reference', { field: 'features' });
  }
  return request.features as string[];
}

function splitRef(ref: string): [string, string] {
  const parts = ref.split(':');
  if (parts.length !== 2 || !parts[0] || !parts[1]) {
    throw new InvalidFeatureRefError(`feature reference ${JSON.stringify(ref)} is not of the form view:feature`, {
      feature: ref,
    });
  }
  return [parts[0], parts[1]];
}

function assertUniqueNames(columns: OutputColumn[]): void {
  const seen = new Map<string, OutputColumn>();
  for (const column of columns) {
    const earlier = seen.get(column.name);
    if (earlier) {
      const hint =
        earlier.viewName === column.viewName
          ? 'it is requested twice'
          : `it comes from both ${earlier.viewName} and ${column.viewName}; set full_feature_names to get view__feature names`;
      throw new FeatureNameCollisionError(`feature name ${column.name} is ambiguous: ${hint}`, { feature: column.name });
    }
    seen.set(column.name, column);
  }
}

function unionJoinKeys(views: SelectedView[]): JoinKeyDef[] {
  const keys = new Map<string, JoinKeyDef>();
  for (const { view } of views) for (const key of view.joinKeys) if (!keys.has(key.name)) keys.set(key.name, key);
  return [...keys.values()];
}
