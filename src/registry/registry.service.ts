import { Injectable } from '@nestjs/common';
import { RegistryNotAppliedError, RepoInvalidError } from '../common/errors';
import { FieldIssue, formatIssue } from '../common/field-reader';
import { AppConfig } from '../config/app-config';
import { FeatureCatalog } from '../core/catalog';
import { RegistryVersion } from '../core/definitions';
import { parseDefinitionsFile } from './definitions-parser';
import { DefinitionsBinding } from './definitions-binding';
import { assembleDefinitions } from './definitions-validator';
import { FeatureRepoReader } from './feature-repo.reader';
import { diffDefinitions, hashDefinitions, Plan, viewsEmptiedOnline } from './plan';
import { RegistryStore } from './registry.store';

export interface ApplyResult {
  plan: Plan;
  version: RegistryVersion;
  /** False when the repo already matched the latest version and nothing was written. */
  applied: boolean;
}

/**
 * Plans and applies the feature repo, and serves the applied definitions to every stage.
 * The current version is held in memory and refreshed in the background when older than the
 * configured interval, so reads never wait on the lake (and pick up applies from other hosts).
 */
@Injectable()
export class RegistryService {
  private cached?: { catalog: FeatureCatalog; checkedAt: number };
  private refreshing?: Promise<FeatureCatalog | null>;

  constructor(
    private readonly config: AppConfig,
    private readonly store: RegistryStore,
    private readonly repo: FeatureRepoReader,
    private readonly binding: DefinitionsBinding,
  ) {}

  async plan(): Promise<Plan> {
    const issues: FieldIssue[] = [];
    const files = (await this.repo.read()).map((f) => parseDefinitionsFile(f.name, f.text, issues));
    const definitions = assembleDefinitions(this.config.project, files);
    // Binding against the data needs sound definitions; it then adds its own problems.
    const unbound = issues.length === 0 ? await this.binding.check(definitions, files) : [];
    if (issues.length > 0) {
      throw new RepoInvalidError(`the feature repo has ${issues.length} problem(s):\n${issues.map(formatIssue).join('\n')}`, {
        issues,
      });
    }
    const latest = await this.store.latest();
    return {
      baseVersion: latest?.version ?? null,
      changes: diffDefinitions(latest, definitions),
      emptiedOnline: viewsEmptiedOnline(latest, definitions),
      unbound,
      definitions,
      definitionsHash: hashDefinitions(definitions),
    };
  }

  async apply(): Promise<ApplyResult> {
    const plan = await this.plan();
    const latest = await this.store.latest();
    if (latest?.definitionsHash === plan.definitionsHash) return { plan, version: latest, applied: false };
    const version = await this.store.commit((_latest, next) => ({
      ...plan.definitions,
      version: next,
      appliedAt: new Date().toISOString(),
      definitionsHash: plan.definitionsHash,
    }));
    this.cached = { catalog: new FeatureCatalog(version), checkedAt: Date.now() };
    return { plan, version, applied: true };
  }

  /** The applied definitions; throws REGISTRY_NOT_APPLIED before the first apply. */
  async catalog(): Promise<FeatureCatalog> {
    const cached = this.cached;
    if (cached) {
      if (Date.now() - cached.checkedAt > this.config.registryRefreshSeconds * 1000) void this.refresh().catch(() => undefined);
      return cached.catalog;
    }
    const catalog = await this.refresh();
    if (!catalog) throw new RegistryNotAppliedError('no feature definitions have been applied yet: run `featurelake apply` first');
    return catalog;
  }

  /** Re-reads the latest version from the lake now (one refresh at a time). */
  refresh(): Promise<FeatureCatalog | null> {
    this.refreshing ??= this.load().finally(() => (this.refreshing = undefined));
    return this.refreshing;
  }

  private async load(): Promise<FeatureCatalog | null> {
    const latest = await this.store.latest();
    if (!latest) return null;
    const current = this.cached?.catalog.registry.version === latest.version ? this.cached.catalog : new FeatureCatalog(latest);
    this.cached = { catalog: current, checkedAt: Date.now() };
    return current;
  }
}
