import { DefinitionMetadata, RegistryVersion } from '../core/definitions';
import { Expectations } from '../core/expectations';
import { formatDuration } from '../core/duration';
import { Retention } from '../core/retention';

/** The applied definitions in the feature repo's own (snake_case) vocabulary. */
export function toRegistryBody(r: RegistryVersion) {
  return {
    project: r.project,
    version: r.version,
    applied_at: r.appliedAt,
    definitions_hash: r.definitionsHash,
    entities: r.entities.map((e) => ({ name: e.name, join_keys: e.joinKeys, ...metadata(e) })),
    datasets: r.datasets.map((d) => ({
      name: d.name,
      timestamp_field: d.timestampField,
      created_timestamp_field: d.createdTimestampField,
      expectations: d.expectations && expectationsBody(d.expectations),
      retention: d.retention && retentionBody(d.retention),
      ...metadata(d),
    })),
    feature_views: r.featureViews.map((v) => ({
      name: v.name,
      entities: v.entities,
      source: v.source,
      ttl: v.ttlSeconds === null ? null : formatDuration(v.ttlSeconds),
      ttl_seconds: v.ttlSeconds,
      sql: v.sql,
      features: v.features,
      online: v.online,
      incremental: v.incremental,
      lookback: v.lookbackSeconds ? formatDuration(v.lookbackSeconds) : undefined,
      drift: v.drift,
      ...metadata(v),
    })),
    feature_services: r.featureServices.map((s) => ({
      name: s.name,
      features: s.features,
      logging: s.logging && { sample_rate: s.logging.sampleRate, retention: s.logging.retention && retentionBody(s.logging.retention) },
      ...metadata(s),
    })),
    push_sources: r.pushSources ?? [],
    skew_checks: (r.skewChecks ?? []).map((c) => ({ name: c.name, every: formatDuration(c.everySeconds), ...c.spec, ...metadata(c) })),
  };
}

function retentionBody(r: Retention) {
  return { keep_snapshots: r.keepSnapshots, keep_for: r.keepForSeconds === undefined ? undefined : formatDuration(r.keepForSeconds) };
}

function metadata(def: DefinitionMetadata): DefinitionMetadata {
  return { description: def.description, tags: def.tags, owner: def.owner };
}

/** Expectations as the repo declares them (`on_violation`, `columns: {price: {min: 0}}`, …). */
function expectationsBody(e: Expectations) {
  const rules = (r: Expectations['columns'][number]['rules']) => ({
    not_null: r.notNull,
    min: r.min,
    max: r.max,
    regex: r.regex,
    allowed: r.allowed,
    max_null_rate: r.maxNullRate,
    max_length: r.maxLength,
  });
  return { on_violation: e.onViolation, columns: Object.fromEntries(e.columns.map((c) => [c.column, rules(c.rules)])), unique: e.unique, rows: e.rows };
}
