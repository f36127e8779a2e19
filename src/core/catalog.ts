import { createHash } from 'node:crypto';
import {
  FeatureServiceNotFoundError,
  FeatureViewNotFoundError,
  DatasetNotFoundError,
  PushSourceNotFoundError,
} from '../common/errors';
import { DatasetDef, EntityDef, FeatureViewDef, JoinKeyDef, PushSourceDef, RegistryVersion, joinKeysOf } from './definitions';

/** A feature view with everything a read or a write needs precomputed once per registry version. */
export interface ResolvedView {
  def: FeatureViewDef;
  dataset: DatasetDef;
  joinKeys: JoinKeyDef[];
  /**
   * Hash of what gives stored rows their meaning (keys, key types, features, feature types).
   * Stored values are addressed by it, so a changed view never reads rows written for the old one.
   */
  fingerprint: string;
}

/** Read-only index over one registry version; built once when the version is loaded. */
export class FeatureCatalog {
  private readonly views = new Map<string, ResolvedView>();
  private readonly entities = new Map<string, EntityDef>();

  constructor(readonly registry: RegistryVersion) {
    for (const entity of registry.entities) this.entities.set(entity.name, entity);
    for (const def of registry.featureViews) {
      const dataset = registry.datasets.find((d) => d.name === def.source);
      if (!dataset) throw new DatasetNotFoundError(`dataset ${def.source} of feature view ${def.name} is not defined`);
      const joinKeys = joinKeysOf(def, registry.entities);
      this.views.set(def.name, { def, dataset, joinKeys, fingerprint: viewFingerprint(def, joinKeys) });
    }
  }

  get project(): string {
    return this.registry.project;
  }

  view(name: string): ResolvedView {
    const view = this.views.get(name);
    if (!view) throw new FeatureViewNotFoundError(`feature view ${JSON.stringify(name)} is not defined`, { view: name });
    return view;
  }

  allViews(): ResolvedView[] {
    return [...this.views.values()];
  }

  featureService(name: string) {
    const service = this.registry.featureServices.find((s) => s.name === name);
    if (!service) {
      throw new FeatureServiceNotFoundError(`feature service ${JSON.stringify(name)} is not defined`, {
        feature_service: name,
      });
    }
    return service;
  }

  dataset(name: string): DatasetDef {
    const dataset = this.registry.datasets.find((d) => d.name === name);
    if (!dataset) throw new DatasetNotFoundError(`dataset ${JSON.stringify(name)} is not defined`, { dataset: name });
    return dataset;
  }

  pushSource(name: string): PushSourceDef {
    const source = (this.registry.pushSources ?? []).find((p) => p.name === name);
    if (!source) throw new PushSourceNotFoundError(`push source ${JSON.stringify(name)} is not defined`, { push_source_name: name });
    return source;
  }

  /** The feature views whose online rows come straight from a dataset's columns (no SQL). */
  viewsFedBy(dataset: string): ResolvedView[] {
    return this.allViews().filter((v) => v.def.source === dataset && !v.def.sql);
  }

  /** Every join key of every entity, by name (a name has one type across entities). */
  joinKeyTypes(): Map<string, JoinKeyDef> {
    const keys = new Map<string, JoinKeyDef>();
    for (const entity of this.entities.values()) for (const key of entity.joinKeys) keys.set(key.name, key);
    return keys;
  }
}

function viewFingerprint(def: FeatureViewDef, joinKeys: JoinKeyDef[]): string {
  const shape = {
    keys: joinKeys.map((k) => [k.name, k.type]),
    features: def.features.map((f) => [f.name, f.type]),
  };
  return createHash('sha256').update(JSON.stringify(shape)).digest('hex').slice(0, 12);
}
