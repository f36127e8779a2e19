import { Injectable } from '@nestjs/common';
import { SkewCheckNotFoundError, WebhookNotAllowedError } from '../../common/errors';
import { withWorkControl } from '../../common/work-control';
import { AppConfig } from '../../config/app-config';
import { QueryControl } from '../../offline-store/offline-store';
import { HistoricalQueries } from '../../retrieval/historical-queries';
import { TempFiles } from '../../common/temp-files';
import { FeatureCatalog } from '../../core/catalog';
import { evaluateFeature, summariseDistribution } from '../../core/skew/distribution';
import { compareSchema, matchColumns } from '../../core/skew/schema-skew';
import { DistributionResult, FeatureDrift, SchemaResult, SkewResult } from '../../core/skew/skew-result';
import { parseSkewSpec, SkewSpec } from '../../core/skew/skew-spec';
import { nowMicros } from '../../core/timestamp';
import { ComputeCalls } from '../../queue/compute-calls';
import { RegistryService } from '../../registry/registry.service';
import { ConsistencyCheck } from './consistency-check';
import { renderReport } from './report-html';
import { SkewEngine } from './skew-engine';
import { SkewMetrics } from './skew-metrics';
import { SkewResultStore } from './skew-result.store';
import { driftOverrides, ResolvedSide, SkewSides } from './skew-sides';
import { SkewWebhook, webhookAllowed } from './skew-webhook';

/**
 * Skew checks: consistency of served values with offline ones, distribution drift and schema
 * skew between two sides — run on demand or on a schedule, stored in the lake with an HTML
 * report, exported as Prometheus gauges, and announced to a webhook when they fail.
 */
@Injectable()
export class SkewChecksService {
  constructor(
    private readonly config: AppConfig,
    private readonly queries: HistoricalQueries,
    private readonly registry: RegistryService,
    private readonly sides: SkewSides,
    private readonly consistencyCheck: ConsistencyCheck,
    private readonly engine: SkewEngine,
    private readonly store: SkewResultStore,
    private readonly metrics: SkewMetrics,
    private readonly webhook: SkewWebhook,
    private readonly temp: TempFiles,
    private readonly calls: ComputeCalls,
  ) {
    calls.register('skew-check.run', (spec: SkewSpec, context) => withWorkControl(this.queries.budget(context.signal), (stop) => this.check(spec, this.queries.control(stop))));
  }

  /**
   * A check asked for by an API client: as `run`, but a webhook it names must be allowed by
   * `monitoring.webhook_allowlist` (a reader may not make the server call arbitrary URLs).
   */
  async runRequested(spec: SkewSpec, signal?: AbortSignal): Promise<SkewResult> {
    if (spec.webhook !== undefined && !webhookAllowed(spec.webhook, this.config.monitoring.webhookAllowlist)) {
      throw new WebhookNotAllowedError(
        `webhook: ${spec.webhook} is not allowed; declare the check with its webhook under skew_checks: in the feature repo, or add a prefix of it to monitoring.webhook_allowlist`,
        { field: 'webhook' },
      );
    }
    return this.run(spec, signal);
  }

  /** Runs a check where compute runs, within the query budget (`limits.query_timeout_seconds`); `signal` stops it early. */
  async run(spec: SkewSpec, signal?: AbortSignal): Promise<SkewResult> {
    const result = await this.calls.run<SkewSpec, SkewResult>('skew-check.run', spec, signal);
    this.metrics.record(result); // here, so that the gauges are on the server that /metrics scrapes, wherever the check ran
    return result;
  }

  private async check(spec: SkewSpec, control: QueryControl): Promise<SkewResult> {
    const started = Date.now();
    const now = nowMicros();
    const catalog = await this.registry.catalog();
    const opened: ResolvedSide[] = [];
    const open = async (side: SkewSpec['current']) => {
      const resolved = await this.sides.resolve(side, catalog, now, control);
      opened.push(resolved);
      return resolved;
    };
    try {
      const current = await open(spec.current);
      const reference = spec.reference ? await open(spec.reference) : null;
      const consistency =
        spec.checks.includes('consistency') && spec.current.kind === 'serving_logs' ? await this.consistencyCheck.run(catalog, spec.current, spec.consistencyThreshold, now, control) : null;
      const { distribution, schema } = reference ? await this.compare(catalog, spec, reference, current, control.signal) : { distribution: null, schema: null };
      const failed = [consistency, distribution, schema].some((c) => c !== null && !c.passed);
      const result: SkewResult = {
        format: 1,
        id: SkewResultStore.newId(),
        name: spec.name ?? null,
        project: catalog.project,
        created_at: new Date().toISOString(),
        duration_ms: Date.now() - started,
        registry_version: catalog.registry.version,
        checks: spec.checks,
        status: failed ? 'failed' : 'passed',
        reference: reference?.summary ?? null,
        current: current.summary,
        consistency,
        distribution,
        schema,
      };
      await this.store.save(result, renderReport(result));
      if (failed && spec.webhook) await this.webhook.notify(spec.webhook, result);
      return result;
    } finally {
      await this.temp.remove(...opened.flatMap((s) => s.temp));
    }
  }

  /** Runs a check declared under `skew_checks:` in the applied feature repo. */
  async runDeclared(name: string, signal?: AbortSignal): Promise<SkewResult> {
    const def = (await this.registry.catalog()).registry.skewChecks?.find((c) => c.name === name);
    if (!def) throw new SkewCheckNotFoundError(`no skew check named ${JSON.stringify(name)} is declared in the feature repo`, { name });
    return this.run({ ...parseSkewSpec(def.spec), name: def.name }, signal);
  }

  async get(id: string): Promise<SkewResult> {
    const result = await this.store.get(id);
    if (!result) throw new SkewCheckNotFoundError(`skew check result ${JSON.stringify(id)} does not exist`, { id });
    return result;
  }

  async report(id: string): Promise<Buffer> {
    const html = await this.store.report(id);
    if (!html) throw new SkewCheckNotFoundError(`skew check result ${JSON.stringify(id)} does not exist`, { id });
    return html;
  }

  list(limit = 50, name?: string): Promise<SkewResult[]> {
    return this.store.list(limit, name);
  }

  /** Distribution and schema skew between two resolved sides: all statistics from the engine, in one pass per feature. */
  private async compare(
    catalog: FeatureCatalog,
    spec: SkewSpec,
    reference: ResolvedSide,
    current: ResolvedSide,
    signal?: AbortSignal,
  ): Promise<{ distribution: DistributionResult | null; schema: SchemaResult | null }> {
    const { matches, missingInCurrent, missingInReference } = matchColumns(reference.columns, current.columns, spec.features);
    const aggregates = await this.engine.aggregates(reference.relation, current.relation, matches, signal);
    const overrides = driftOverrides(catalog);
    const drifts: FeatureDrift[] = [];
    aggregates.forEach((agg, i) => {
      if (agg) drifts.push(evaluateFeature(agg, overrides.get(matches[i].feature.split(':')[0])));
    });
    return {
      distribution: spec.checks.includes('distribution') ? summariseDistribution(drifts, spec.driftShare) : null,
      schema: spec.checks.includes('schema')
        ? compareSchema(
            matches.map((match, i) => ({ match, aggregates: aggregates[i] })),
            missingInCurrent,
            missingInReference,
            spec.nullRateThreshold,
          )
        : null,
    };
  }
}
