import { SkewResult } from '../core/skew/skew-result';
import { table } from './output';

/** The result of a skew check as a terminal table: one row per feature, every check that ran. */
export function skewTable(result: SkewResult): string {
  const features = new Set<string>([
    ...(result.distribution?.features.map((f) => f.feature) ?? []),
    ...(result.consistency?.features.map((f) => f.feature) ?? []),
    ...(result.schema?.issues.map((i) => i.feature) ?? []),
  ]);
  const rows = [...features].map((name) => {
    const drift = result.distribution?.features.find((f) => f.feature === name);
    const served = result.consistency?.features.find((f) => f.feature === name);
    const issues = result.schema?.issues.filter((i) => i.feature === name).map((i) => i.issue) ?? [];
    return [
      name,
      drift ? `${drift.method} ${drift.score === null ? 'n/a' : drift.score.toPrecision(3)}` : '',
      drift ? (drift.drifted ? 'DRIFT' : 'ok') : '',
      served ? `${served.mismatches}/${served.compared}` : '',
      served ? `${(served.inconsistent_rate * 100).toFixed(1)}%` : '',
      served?.smape === null || served?.smape === undefined ? '' : `${served.smape.toFixed(2)}%`,
      result.schema ? issues.join(',') || 'ok' : '',
    ];
  });
  const sides = [result.reference && `reference: ${result.reference.label} (${result.reference.rows} rows)`, `current: ${result.current.label} (${result.current.rows} rows)`].filter(Boolean);
  const verdicts = [
    result.consistency && `consistency ${result.consistency.passed ? 'passed' : 'FAILED'}`,
    result.distribution && `distribution ${result.distribution.drifted_features}/${result.distribution.features_compared} drifted${result.distribution.dataset_drift ? ' (DATASET DRIFT)' : ''}`,
    result.schema && `schema ${result.schema.passed ? 'passed' : `${result.schema.issues.length} issue(s)`}`,
  ].filter(Boolean);
  return [
    `Skew check ${result.name ?? ''} ${result.id}: ${result.status.toUpperCase()} — ${verdicts.join(', ')}`.replace('  ', ' '),
    ...sides,
    '',
    table(['feature', 'drift test', 'drift', 'mismatches', 'inconsistent', 'SMAPE', 'schema'], rows),
  ].join('\n');
}
