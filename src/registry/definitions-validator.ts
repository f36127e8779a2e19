import { CREATED_TIMESTAMP, DatasetDef, Definitions, EntityDef, EVENT_TIMESTAMP, FeatureViewDef, JoinKeyDef, SkewCheckDef } from '../core/definitions';
import { parseSkewSpec, SkewSpec } from '../core/skew/skew-spec';
import { Located, ParsedFile } from './definitions-parser';

/**
 * Joins the definitions of all files and checks what no single file can: unique names,
 * references between objects, and one type per join-key name. Problems are recorded through
 * the readers, located at the field that carries the bad reference.
 */
export function assembleDefinitions(project: string, files: ParsedFile[]): Definitions {
  const entities = unique(files.flatMap((f) => f.entities), 'entity');
  const datasets = unique(files.flatMap((f) => f.datasets), 'dataset');
  const views = unique(files.flatMap((f) => f.featureViews), 'feature view');
  const services = unique(files.flatMap((f) => f.featureServices), 'feature service');
  const pushSources = unique(files.flatMap((f) => f.pushSources), 'push source');
  const skewChecks = unique(files.flatMap((f) => f.skewChecks), 'skew check');
  for (const check of skewChecks) checkSkewRefs(check, services.map((x) => x.def.name), views.map((v) => v.def.name));
  checkJoinKeyTypes(entities);
  for (const view of views) checkView(view, entities, datasets.map((d) => d.def));
  for (const service of services) checkServiceRefs(service.def.features, views.map((v) => v.def), service.at.issue.bind(service.at));
  for (const { def, at } of pushSources) {
    const dataset = datasets.find((d) => d.def.name === def.dataset)?.def;
    if (!dataset) at.issue(`unknown dataset ${JSON.stringify(def.dataset)}`, 'dataset');
    else if (!dataset.timestampField) at.issue(`dataset ${dataset.name} has no timestamp_field; pushed rows need an event time`, 'dataset');
  }
  return {
    project,
    entities: byName(entities.map((e) => e.def)),
    datasets: byName(datasets.map((d) => d.def)),
    featureViews: byName(views.map((v) => v.def)),
    featureServices: byName(services.map((s) => s.def)),
    pushSources: byName(pushSources.map((p) => p.def)),
    skewChecks: byName(skewChecks.map((c) => c.def)),
  };
}

function unique<T extends { name: string }>(items: Located<T>[], kind: string): Located<T>[] {
  const seen = new Map<string, Located<T>>();
  for (const item of items) {
    const first = seen.get(item.def.name);
    if (first) {
      item.at.issue(`${kind} ${item.def.name} is already defined at ${first.at.file}: ${first.at.path}`, 'name');
    } else {
      seen.set(item.def.name, item);
    }
  }
  return [...seen.values()];
}

function checkJoinKeyTypes(entities: Located<EntityDef>[]): void {
  const types = new Map<string, { key: JoinKeyDef; entity: string }>();
  for (const { def, at } of entities) {
    for (const key of def.joinKeys) {
      const earlier = types.get(key.name);
      if (earlier && earlier.key.type !== key.type) {
        at.issue(`join key ${key.name} is ${key.type} here but ${earlier.key.type} in entity ${earlier.entity}`, 'join_keys');
      } else if (!earlier) {
        types.set(key.name, { key, entity: def.name });
      }
    }
  }
}

function checkView(view: Located<FeatureViewDef>, entities: Located<EntityDef>[], datasets: DatasetDef[]): void {
  const { def, at } = view;
  const keys: string[] = [];
  def.entities.forEach((name, i) => {
    const entity = entities.find((e) => e.def.name === name);
    if (!entity) at.issue(`unknown entity ${JSON.stringify(name)}`, ['entities', i]);
    else keys.push(...entity.def.joinKeys.map((k) => k.name));
  });
  const duplicateKey = keys.find((k, i) => keys.indexOf(k) !== i);
  if (duplicateKey) at.issue(`two entities share join key ${duplicateKey}`, 'entities');
  const dataset = datasets.find((d) => d.name === def.source);
  if (!dataset) {
    if (def.source) at.issue(`unknown dataset ${JSON.stringify(def.source)}`, 'source'); // else: already reported as required
  }
  else if (!def.sql && !dataset.timestampField) {
    at.issue(`dataset ${dataset.name} has no timestamp_field, so this view needs sql that returns ${EVENT_TIMESTAMP}`, 'source');
  }
  const reserved = new Set([...keys, EVENT_TIMESTAMP, CREATED_TIMESTAMP]);
  const seen = new Set<string>();
  def.features.forEach((feature, i) => {
    if (reserved.has(feature.name)) at.issue(`${feature.name} is a join key or a reserved column name`, ['features', i, 'name']);
    if (seen.has(feature.name)) at.issue(`feature ${feature.name} is listed twice`, ['features', i, 'name']);
    seen.add(feature.name);
  });
}

/** Feature-service entries are `view` (every feature of it) or `view:feature`. */
export function checkServiceRefs(refs: string[], views: FeatureViewDef[], issue: (message: string, field: (string | number)[]) => void): void {
  refs.forEach((ref, i) => {
    const [viewName, featureName, extra] = ref.split(':');
    const view = views.find((v) => v.name === viewName);
    if (extra !== undefined || !viewName) issue(`${JSON.stringify(ref)} is not of the form view or view:feature`, ['features', i]);
    else if (!view) issue(`unknown feature view ${JSON.stringify(viewName)}`, ['features', i]);
    else if (featureName !== undefined && !view.features.some((f) => f.name === featureName)) {
      issue(`feature view ${viewName} has no feature ${JSON.stringify(featureName)}`, ['features', i]);
    }
  });
}

function byName<T extends { name: string }>(items: T[]): T[] {
  return [...items].sort((a, b) => a.name.localeCompare(b.name));
}

/** A declared skew check may only name feature services and views that exist (training sets and datasets are checked when it runs). */
function checkSkewRefs({ def, at }: Located<SkewCheckDef>, services: string[], views: string[]): void {
  let spec: SkewSpec;
  try {
    spec = parseSkewSpec(def.spec);
  } catch {
    return; // already reported by the parser
  }
  for (const [field, side] of [['reference', spec.reference], ['current', spec.current]] as const) {
    if (side?.kind === 'serving_logs' && !services.includes(side.featureService)) {
      at.issue(`unknown feature service ${JSON.stringify(side.featureService)}`, [field, 'serving_logs', 'feature_service']);
    }
    if (side?.kind === 'feature_view' && !views.includes(side.name)) at.issue(`unknown feature view ${JSON.stringify(side.name)}`, [field, 'feature_view', 'name']);
  }
}
