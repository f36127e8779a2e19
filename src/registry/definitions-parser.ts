import { FieldIssue, FieldReader } from '../common/field-reader';
import { ValidationFailedError } from '../common/errors';
import { parseYaml } from '../common/yaml-file';
import { parseSkewSpec } from '../core/skew/skew-spec';
import { readExpectations } from './expectations-parser';
import { readRetention } from './retention-parser';
import { DatasetDef, DefinitionMetadata, DRIFT_METHODS, DriftMethod, DriftOverride, EntityDef, FeatureDef, FeatureServiceDef, FeatureViewDef, JoinKeyDef, PushSourceDef, SkewCheckDef } from '../core/definitions';
import { parseDurationSeconds } from '../core/duration';
import { isIdentifier } from '../core/identifiers';
import { isValueType, VALUE_TYPES, ValueType } from '../core/value-types';

/** Definitions read from one file, each remembering where it came from for later messages. */
export interface Located<T> {
  def: T;
  at: FieldReader;
}

export interface ParsedFile {
  entities: Located<EntityDef>[];
  datasets: Located<DatasetDef>[];
  featureViews: Located<FeatureViewDef>[];
  featureServices: Located<FeatureServiceDef>[];
  pushSources: Located<PushSourceDef>[];
  skewChecks: Located<SkewCheckDef>[];
}

const SECTIONS = ['entities', 'datasets', 'feature_views', 'feature_services', 'push_sources', 'skew_checks'];

/** Reads the definitions of one YAML file; shape problems are added to `issues`, never thrown. */
export function parseDefinitionsFile(file: string, text: string, issues: FieldIssue[]): ParsedFile {
  const parsed: ParsedFile = { entities: [], datasets: [], featureViews: [], featureServices: [], pushSources: [], skewChecks: [] };
  const yaml = parseYaml(file, text, issues);
  if (!yaml || yaml.value === null || yaml.value === undefined) return parsed;
  const root = FieldReader.root(yaml.source, yaml.value, issues);
  if (!root) return parsed;
  root.rejectUnknown(SECTIONS);
  for (const at of root.objectList('entities')) collect(parsed.entities, readEntity(at), at);
  for (const at of root.objectList('datasets')) collect(parsed.datasets, readDataset(at), at);
  for (const at of root.objectList('feature_views')) collect(parsed.featureViews, readFeatureView(at), at);
  for (const at of root.objectList('feature_services')) collect(parsed.featureServices, readFeatureService(at), at);
  for (const at of root.objectList('push_sources')) collect(parsed.pushSources, readPushSource(at), at);
  for (const at of root.objectList('skew_checks')) collect(parsed.skewChecks, readSkewCheck(at), at);
  return parsed;
}

function collect<T>(into: Located<T>[], def: T | undefined, at: FieldReader): void {
  if (def) into.push({ def, at });
}

/** What every definition may carry, as Feast's objects do: shown by `describe`, never interpreted. */
const METADATA_FIELDS = ['description', 'tags', 'owner'] as const;

function readMetadata(at: FieldReader): DefinitionMetadata {
  const metadata: DefinitionMetadata = {};
  const description = at.string('description');
  if (description !== undefined) metadata.description = description;
  const owner = at.string('owner');
  if (owner !== undefined) metadata.owner = owner;
  const tags = at.object('tags');
  if (tags) {
    const entries = Object.entries(tags.value).filter(([key, value]) => {
      if (typeof value === 'string') return true;
      tags.issue(`must be a string (quote it: ${key}: "${String(value)}"), got ${JSON.stringify(value)}`, key);
      return false;
    });
    metadata.tags = Object.fromEntries(entries.sort(([a], [b]) => a.localeCompare(b))) as Record<string, string>;
  }
  return metadata;
}

function readName(at: FieldReader): string | undefined {
  const name = at.string('name', true);
  if (name !== undefined && !isIdentifier(name)) {
    at.issue(`${JSON.stringify(name)} is not an identifier (letters, digits and _, not starting with a digit)`, 'name');
    return undefined;
  }
  return name;
}

function readType(at: FieldReader, field: string): ValueType | undefined {
  const type = at.string(field, true);
  if (type !== undefined && !isValueType(type)) {
    at.issue(`unknown type ${JSON.stringify(type)} (use one of ${VALUE_TYPES.join(', ')})`, field);
    return undefined;
  }
  return type;
}

function readEntity(at: FieldReader): EntityDef | undefined {
  at.rejectUnknown(['name', 'join_keys', 'value_type', ...METADATA_FIELDS]);
  const name = readName(at);
  const joinKeys = readJoinKeys(at);
  if (!name || !joinKeys) return undefined;
  return { name, joinKeys, ...readMetadata(at) };
}

/** `join_keys: [a, b]` with one `value_type`, or `join_keys: [{name: a, type: string}, …]`. */
function readJoinKeys(at: FieldReader): JoinKeyDef[] | undefined {
  const raw = at.value.join_keys;
  if (!Array.isArray(raw) || raw.length === 0) {
    at.issue('must be a non-empty list of join key names', 'join_keys');
    return undefined;
  }
  if (raw.every((k) => typeof k === 'string')) {
    const type = readType(at, 'value_type');
    const names = raw as string[];
    names.forEach((n, i) => !isIdentifier(n) && at.issue(`${JSON.stringify(n)} is not an identifier`, ['join_keys', i]));
    return type && names.every(isIdentifier) ? names.map((n) => ({ name: n, type })) : undefined;
  }
  const keys = at.objectList('join_keys').map((key) => {
    key.rejectUnknown(['name', 'type']);
    const name = readName(key);
    const type = readType(key, 'type');
    return name && type ? { name, type } : undefined;
  });
  if (at.has('value_type')) at.issue('give either value_type or a type per join key, not both', 'value_type');
  return keys.length === raw.length && keys.every(Boolean) ? (keys as JoinKeyDef[]) : undefined;
}

function readDataset(at: FieldReader): DatasetDef | undefined {
  at.rejectUnknown(['name', 'timestamp_field', 'created_timestamp_field', 'expectations', 'retention', ...METADATA_FIELDS]);
  const name = readName(at);
  if (!name) return undefined;
  return {
    name,
    timestampField: at.string('timestamp_field'),
    createdTimestampField: at.string('created_timestamp_field'),
    expectations: readExpectations(at),
    retention: readRetention(at),
    ...readMetadata(at),
  };
}

/**
 * A view with a name is kept even when other fields are wrong (their problem is already
 * recorded, and any problem blocks apply), so that services and checks referring to it do not
 * report it unknown: one bad `ttl` is one problem, not a cascade.
 */
function readFeatureView(at: FieldReader): FeatureViewDef | undefined {
  at.rejectUnknown(['name', 'entities', 'source', 'ttl', 'sql', 'features', 'online', 'incremental', 'lookback', 'drift', ...METADATA_FIELDS]);
  const name = readName(at);
  const entities = at.stringList('entities', true);
  if (entities?.length === 0) at.issue('must name at least one entity', 'entities');
  const source = at.string('source', true);
  const ttlSeconds = readTtl(at);
  const features = readFeatures(at);
  if (!name) return undefined;
  return {
    name,
    entities: entities ?? [],
    source: source ?? '',
    ttlSeconds: ttlSeconds ?? null,
    sql: at.string('sql'),
    features,
    online: at.boolean('online', true),
    incremental: readIncremental(at),
    ...readLookback(at),
    drift: readDrift(at),
    ...readMetadata(at),
  };
}

function readDrift(at: FieldReader): DriftOverride | undefined {
  const drift = at.object('drift');
  if (!drift) return undefined;
  drift.rejectUnknown(['method', 'threshold']);
  const method = drift.string('method');
  if (method !== undefined && !(DRIFT_METHODS as readonly string[]).includes(method)) {
    drift.issue(`must be one of ${DRIFT_METHODS.join(', ')}`, 'method');
  }
  const threshold = drift.value.threshold;
  if (threshold !== undefined && (typeof threshold !== 'number' || !(threshold > 0))) drift.issue('must be a positive number', 'threshold');
  return { method: method as DriftMethod | undefined, threshold: typeof threshold === 'number' ? threshold : undefined };
}

function readIncremental(at: FieldReader): 'entities' | 'full' {
  const mode = at.string('incremental') ?? 'entities';
  if (mode !== 'entities' && mode !== 'full') {
    at.issue(`must be entities or full, got ${JSON.stringify(mode)}`, 'incremental');
    return 'entities';
  }
  return mode;
}

/** `lookback: 7d`: how much history before an event the view's SQL needs; absent: all of it. */
function readLookback(at: FieldReader): { lookbackSeconds?: number } {
  const text = at.scalarText('lookback');
  if (text === undefined) return {};
  const seconds = parseDurationSeconds(text);
  if (seconds === null) {
    at.issue(`invalid duration ${JSON.stringify(text)} (use a whole number followed by s, m, h, d or w, e.g. 7d)`, 'lookback');
    return {};
  }
  return { lookbackSeconds: seconds };
}

/** `ttl: 2d`; absent or `0` means the values never expire. undefined signals an invalid value. */
function readTtl(at: FieldReader): number | null | undefined {
  const text = at.scalarText('ttl');
  if (text === undefined || text === '0') return null;
  const seconds = parseDurationSeconds(text);
  if (seconds === null) {
    at.issue(`invalid duration ${JSON.stringify(text)} (use a whole number followed by s, m, h, d or w, e.g. 2d)`, 'ttl');
    return undefined;
  }
  return seconds === 0 ? null : seconds;
}

function readFeatures(at: FieldReader): FeatureDef[] {
  const items = at.objectList('features');
  if (!at.has('features') || items.length === 0) {
    at.issue(at.has('features') ? 'must list at least one feature' : 'is required', 'features');
    return [];
  }
  return items.flatMap((item) => {
    item.rejectUnknown(['name', 'type', ...METADATA_FIELDS]);
    const name = readName(item);
    // A feature with a bad type keeps its name (its problem is recorded) so references to it resolve.
    const type = readType(item, 'type') ?? 'string';
    return name ? [{ name, type, ...readMetadata(item) }] : [];
  });
}

function readFeatureService(at: FieldReader): FeatureServiceDef | undefined {
  at.rejectUnknown(['name', 'features', 'logging', ...METADATA_FIELDS]);
  const name = readName(at);
  const features = at.stringList('features', true);
  if (features?.length === 0) at.issue('must list at least one feature or feature view', 'features');
  const logging = at.object('logging');
  logging?.rejectUnknown(['sample_rate', 'retention']);
  const rate = logging?.value.sample_rate;
  if (logging && (typeof rate !== 'number' || rate < 0 || rate > 1)) logging.issue('must be a number from 0 to 1', 'sample_rate');
  if (!name || !features?.length) return undefined;
  const retention = logging && readRetention(logging);
  return { name, features, ...readMetadata(at), logging: typeof rate === 'number' ? { sampleRate: rate, ...(retention ? { retention } : {}) } : undefined };
}

function readSkewCheck(at: FieldReader): SkewCheckDef | undefined {
  const name = readName(at);
  const everySeconds = durationField(at, 'every', true);
  const { name: _name, every: _every, description: _description, tags: _tags, owner: _owner, ...spec } = at.value;
  try {
    parseSkewSpec(spec);
  } catch (error) {
    if (!(error instanceof ValidationFailedError)) throw error;
    const field = (error.details as { field?: string } | undefined)?.field;
    at.issue(error.message.replace(/^[^:]*: /, ''), field?.split('.').flatMap((s) => s.split(/\[(\d+)\]/).filter(Boolean)).map((s) => (/^\d+$/.test(s) ? Number(s) : s)));
  }
  if (!name || everySeconds === undefined) return undefined;
  return { name, everySeconds, spec, ...readMetadata(at) };
}

function durationField(at: FieldReader, field: string, required: boolean): number | undefined {
  const text = at.scalarText(field);
  if (text === undefined) {
    if (required) at.issue('is required', field);
    return undefined;
  }
  const seconds = parseDurationSeconds(text);
  if (!seconds) {
    at.issue(`invalid duration ${JSON.stringify(text)} (a whole number followed by s, m, h, d or w)`, field);
    return undefined;
  }
  return seconds;
}

function readPushSource(at: FieldReader): PushSourceDef | undefined {
  at.rejectUnknown(['name', 'dataset', ...METADATA_FIELDS]);
  const name = readName(at);
  const dataset = at.string('dataset', true);
  if (!name || !dataset) return undefined;
  return { name, dataset, ...readMetadata(at) };
}
