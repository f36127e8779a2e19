import { createHash } from 'node:crypto';
import { Definitions, FeatureViewDef, joinKeysOf } from '../core/definitions';
import type { UnboundView } from './definitions-binding';

export type ObjectKind = 'entity' | 'dataset' | 'feature_view' | 'feature_service' | 'push_source' | 'skew_check';

export interface PlannedChange {
  kind: ObjectKind;
  name: string;
  action: 'create' | 'update' | 'delete';
  /** For updates: the top-level fields whose value changes. */
  fields: string[];
}

export interface Plan {
  /** The registry version the plan was made against (null: nothing applied yet). */
  baseVersion: number | null;
  changes: PlannedChange[];
  definitions: Definitions;
  definitionsHash: string;
  /** Online views whose keys or features change shape: their online table reads empty until they are materialized again. */
  emptiedOnline?: string[];
  /** Views not checked against data, their dataset having none yet (their first materialization checks them). */
  unbound?: UnboundView[];
}

const KINDS: [ObjectKind, keyof Omit<Definitions, 'project'>][] = [
  ['entity', 'entities'],
  ['dataset', 'datasets'],
  ['feature_view', 'featureViews'],
  ['feature_service', 'featureServices'],
  ['push_source', 'pushSources'],
  ['skew_check', 'skewChecks'],
];

/** Hash of the canonical JSON form; definitions are kept sorted by name, so order in files is irrelevant. */
export function hashDefinitions(definitions: Definitions): string {
  return createHash('sha256').update(canonicalJson(definitions)).digest('hex');
}

/** What applying `next` on top of `current` would create, update and delete, object by object. */
export function diffDefinitions(current: Definitions | null, next: Definitions): PlannedChange[] {
  const changes: PlannedChange[] = [];
  for (const [kind, key] of KINDS) {
    const before = new Map((current?.[key] ?? []).map((item) => [item.name, item as unknown as Record<string, unknown>]));
    const after = new Map((next[key] ?? []).map((item) => [item.name, item as unknown as Record<string, unknown>]));
    for (const [name, item] of after) {
      const old = before.get(name);
      if (!old) changes.push({ kind, name, action: 'create', fields: [] });
      else {
        const fields = changedFields(old, item);
        if (fields.length) changes.push({ kind, name, action: 'update', fields });
      }
    }
    for (const name of before.keys()) if (!after.has(name)) changes.push({ kind, name, action: 'delete', fields: [] });
  }
  return changes;
}

/**
 * The online views whose shape (join keys and feature types, what a view's fingerprint is made
 * of) changes: their online rows are keyed by the old shape, so the view reads NOT_FOUND until a
 * materialization writes it anew.
 */
export function viewsEmptiedOnline(current: Definitions | null, next: Definitions): string[] {
  if (!current) return [];
  const shape = (defs: Definitions, view: FeatureViewDef) => canonicalJson({ keys: joinKeysOf(view, defs.entities).map((k) => [k.name, k.type]), features: view.features.map((f) => [f.name, f.type]) });
  return next.featureViews
    .filter((view) => view.online !== false)
    .filter((view) => {
      const old = current.featureViews.find((v) => v.name === view.name);
      return old !== undefined && shape(current, old) !== shape(next, view);
    })
    .map((view) => view.name);
}

function changedFields(before: Record<string, unknown>, after: Record<string, unknown>): string[] {
  const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
  return [...keys].filter((k) => canonicalJson(before[k]) !== canonicalJson(after[k])).sort();
}

/** Lines like `+ feature_view airport_daily` / `~ feature_view airport_daily (ttlSeconds)`. */
export function formatPlan(plan: Plan): string[] {
  const unbound = (plan.unbound ?? []).map(
    (u) => `? feature_view ${u.view}: not checked against data: dataset ${u.dataset} has none yet (its first materialization checks it)`,
  );
  if (plan.changes.length === 0) return ['No changes: the registry already matches the feature repo.', ...unbound];
  const symbol = { create: '+', update: '~', delete: '-' } as const;
  const lines = plan.changes.map((c) => `${symbol[c.action]} ${c.kind} ${c.name}${c.fields.length ? ` (${c.fields.join(', ')})` : ''}`);
  for (const name of plan.emptiedOnline ?? []) {
    lines.push(`! feature_view ${name}: its keys or features change shape, so it reads empty online (NOT_FOUND) until it is materialized again`);
  }
  return [...lines, ...unbound];
}

function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).filter(([, x]) => x !== undefined).sort(([a], [b]) => a.localeCompare(b)))
      : v,
  ) ?? 'null';
}
