import { Injectable } from '@nestjs/common';
import { Gauge } from 'prom-client';
import { SkewResult } from '../../core/skew/skew-result';
import { Metrics } from '../../metrics/metrics';

type Labels = Record<string, string>;

/**
 * Prometheus gauges for the latest result of each check (by name; unnamed runs as `adhoc`). A new
 * result replaces all of its check's series, so a feature that left the check leaves the metrics.
 */
@Injectable()
export class SkewMetrics {
  private readonly gauges: Record<string, Gauge>;
  private readonly series = new Map<string, [Gauge, Labels][]>();

  constructor(metrics: Metrics) {
    this.gauges = {
      passed: metrics.gauge('featurelake_skew_check_passed', 'Latest result of the skew check: 1 passed, 0 failed', ['check']),
      lastRun: metrics.gauge('featurelake_skew_check_last_run_timestamp_seconds', 'When the skew check last ran', ['check']),
      driftShare: metrics.gauge('featurelake_skew_drift_share', 'Share of compared features that drifted', ['check']),
      schemaIssues: metrics.gauge('featurelake_skew_schema_issues', 'Schema skew issues found', ['check']),
      score: metrics.gauge('featurelake_skew_drift_score', 'Drift test result per feature: a p-value (ks, chisquare, z) or a distance', ['check', 'feature', 'method']),
      drifted: metrics.gauge('featurelake_skew_feature_drifted', 'Whether the feature drifted (1) or not (0)', ['check', 'feature']),
      inconsistent: metrics.gauge('featurelake_skew_inconsistent_rate', 'Share of logged rows whose served value disagrees with offline', ['check', 'feature']),
      smape: metrics.gauge('featurelake_skew_smape_percent', 'SMAPE of served against offline values, percent', ['check', 'feature']),
    };
  }

  record(result: SkewResult): void {
    const check = result.name ?? 'adhoc';
    for (const [gauge, labels] of this.series.get(check) ?? []) gauge.remove(labels);
    const set: [Gauge, Labels][] = [];
    const put = (gauge: Gauge, labels: Labels, value: number) => {
      gauge.set(labels, value);
      set.push([gauge, labels]);
    };
    put(this.gauges.passed, { check }, result.status === 'passed' ? 1 : 0);
    put(this.gauges.lastRun, { check }, Date.parse(result.created_at) / 1000);
    if (result.distribution) {
      put(this.gauges.driftShare, { check }, result.distribution.drift_share);
      for (const f of result.distribution.features) {
        if (f.score !== null) put(this.gauges.score, { check, feature: f.feature, method: f.method }, f.score);
        put(this.gauges.drifted, { check, feature: f.feature }, f.drifted ? 1 : 0);
      }
    }
    if (result.schema) put(this.gauges.schemaIssues, { check }, result.schema.issues.length);
    for (const f of result.consistency?.features ?? []) {
      put(this.gauges.inconsistent, { check, feature: f.feature }, f.inconsistent_rate);
      if (f.smape !== null) put(this.gauges.smape, { check, feature: f.feature }, f.smape);
    }
    this.series.set(check, set);
  }
}
