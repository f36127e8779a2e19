import type { Retention } from './retention';
import { Expectations } from './expectations';
import { ValueType } from './value-types';

/** The column a feature view's rows are stamped with, whatever the source calls it. */
export const EVENT_TIMESTAMP = 'event_timestamp';
export const CREATED_TIMESTAMP = 'created_timestamp';

export interface JoinKeyDef {
  name: string;
  type: ValueType;
}

/** What a definition says about itself (as Feast's objects do): shown, never interpreted. */
export interface DefinitionMetadata {
  description?: string;
  /** Free-form labels (`team: risk`), sorted by key. */
  tags?: Record<string, string>;
  /** Who to ask about it, usually an e-mail address. */
  owner?: string;
}

export interface EntityDef extends DefinitionMetadata {
  name: string;
  joinKeys: JoinKeyDef[];
}

export interface DatasetDef extends DefinitionMetadata {
  name: string;
  /** Rules every incoming file (and every push) must keep; absent: any values get in. */
  expectations?: Expectations;
  /** Which snapshots `featurelake gc` lets expire; absent: every snapshot is kept. */
  retention?: Retention;
  /** Event time of each raw row; absent for static reference data (e.g. airport attributes). */
  timestampField?: string;
  createdTimestampField?: string;
}

export interface FeatureDef extends DefinitionMetadata {
  name: string;
  type: ValueType;
}

export interface FeatureViewDef extends DefinitionMetadata {
  name: string;
  entities: string[];
  source: string;
  /** null: values never expire (no lower bound in point-in-time joins, never OUTSIDE_MAX_AGE). */
  ttlSeconds: number | null;
  /** DuckDB SQL over the source dataset (referenced by its name); absent: columns taken as they are. */
  sql?: string;
  features: FeatureDef[];
  online: boolean;
  /**
   * How incremental materialization finds what new data changes: `entities` recomputes the
   * entities the new rows belong to (right for SQL whose rows per entity depend only on that
   * entity's source rows — aggregations and windows by entity); `full` recomputes everything.
   */
  incremental: 'entities' | 'full';
  /**
   * How much history before an event its SQL needs (a 7-day window: 7d). Incremental runs then
   * read the dataset only from the new data's first event time minus this. Absent: all history.
   */
  lookbackSeconds?: number | null;
  drift?: DriftOverride;
}

/** `view` (all of its features) or `view:feature`. */
export interface FeatureServiceDef extends DefinitionMetadata {
  name: string;
  features: string[];
  /** Log this share (0…1) of the vectors served through the service, for skew checks. */
  logging?: { sampleRate: number; retention?: Retention };
}

export const DRIFT_METHODS = ['ks', 'wasserstein', 'chisquare', 'z', 'jensenshannon', 'psi', 'linf'] as const;
export type DriftMethod = (typeof DRIFT_METHODS)[number];

/** A feature view's own drift test and threshold, instead of the defaults chosen by type and size. */
export interface DriftOverride {
  method?: DriftMethod;
  threshold?: number;
}

/**
 * A skew check the server runs on a schedule: `spec` is the same document `POST /skew-checks`
 * takes (core/skew/skew-spec parses both), kept as written so the registry shows it as declared.
 */
export interface SkewCheckDef extends DefinitionMetadata {
  name: string;
  everySeconds: number;
  spec: Record<string, unknown>;
}

/**
 * Where `/push` sends rows: into `dataset` (offline, as a lake snapshot) and straight into the
 * online table of every feature view that reads that dataset without SQL (online).
 */
export interface PushSourceDef extends DefinitionMetadata {
  name: string;
  dataset: string;
}

export interface Definitions {
  project: string;
  entities: EntityDef[];
  datasets: DatasetDef[];
  featureViews: FeatureViewDef[];
  featureServices: FeatureServiceDef[];
  pushSources: PushSourceDef[];
  skewChecks?: SkewCheckDef[];
}

/** One applied, immutable version of the definitions, as stored in the lake. */
export interface RegistryVersion extends Definitions {
  version: number;
  appliedAt: string;
  /** sha256 of the canonical definitions: equal hashes mean nothing changed. */
  definitionsHash: string;
}

export function joinKeysOf(view: FeatureViewDef, entities: readonly EntityDef[]): JoinKeyDef[] {
  return view.entities.flatMap((name) => {
    const entity = entities.find((e) => e.name === name);
    if (!entity) throw new Error(`feature view ${view.name} names unknown entity ${name}`);
    return entity.joinKeys;
  });
}
