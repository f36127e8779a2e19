import { FeatureAggregates } from './distribution';
import { SchemaIssue, SchemaResult } from './skew-result';

/** A column of one side: the feature it holds (`view:feature`, or a dataset column's name) and its engine type. */
export interface SideColumn {
  feature: string;
  column: string;
  type: string;
}

export interface FeatureMatch {
  feature: string;
  reference: SideColumn;
  current: SideColumn;
}

/**
 * Pairs the two sides' columns: same feature name, or — when one side is a dataset, whose columns
 * have no view — the same feature part (`airport_daily:avg_delay` ~ `avg_delay`) if unique.
 * `only` narrows to the named features.
 */
export function matchColumns(reference: SideColumn[], current: SideColumn[], only?: string[]) {
  const matches: FeatureMatch[] = [];
  const usedCurrent = new Set<SideColumn>();
  const unmatchedReference: SideColumn[] = [];
  for (const ref of reference) {
    const exact = current.find((c) => c.feature === ref.feature);
    const loose = exact ?? uniqueLooseMatch(ref, current);
    if (loose && !usedCurrent.has(loose)) {
      usedCurrent.add(loose);
      matches.push({ feature: ref.feature.includes(':') ? ref.feature : loose.feature, reference: ref, current: loose });
    } else {
      unmatchedReference.push(ref);
    }
  }
  const wanted = (name: string) => !only || only.includes(name) || only.includes(name.split(':').pop() as string);
  return {
    matches: matches.filter((m) => wanted(m.feature)),
    missingInCurrent: unmatchedReference.filter((c) => wanted(c.feature)).map((c) => c.feature),
    missingInReference: current.filter((c) => !usedCurrent.has(c) && wanted(c.feature)).map((c) => c.feature),
  };
}

function uniqueLooseMatch(ref: SideColumn, current: SideColumn[]): SideColumn | undefined {
  const refHasView = ref.feature.includes(':');
  const part = (name: string) => name.split(':').pop();
  const candidates = current.filter((c) => c.feature.includes(':') !== refHasView && part(c.feature) === part(ref.feature));
  return candidates.length === 1 ? candidates[0] : undefined;
}

/** Schema skew: features one side lacks, changed types, categories never seen in the reference, null-rate jumps. */
export function compareSchema(
  matched: { match: FeatureMatch; aggregates: FeatureAggregates | null }[],
  missingInCurrent: string[],
  missingInReference: string[],
  nullRateThreshold: number,
): SchemaResult {
  const issues: SchemaIssue[] = [
    ...missingInCurrent.map((feature) => ({ feature, issue: 'missing_in_current' as const, message: `${feature} is in the reference but not in the current data` })),
    ...missingInReference.map((feature) => ({ feature, issue: 'missing_in_reference' as const, message: `${feature} is in the current data but not in the reference` })),
  ];
  for (const { match, aggregates } of matched) {
    const { feature, reference, current } = match;
    if (reference.type !== current.type) {
      issues.push({ feature, issue: 'type_changed', message: `${feature} is ${reference.type} in the reference and ${current.type} now`, reference: reference.type, current: current.type });
    }
    if (!aggregates) continue;
    const fresh = aggregates.newCategories;
    if (fresh && fresh.count > 0) {
      issues.push({ feature, issue: 'new_categories', message: `${feature} has ${fresh.count} value(s) the reference never had, e.g. ${fresh.examples.map((e) => JSON.stringify(e)).join(', ')}`, current: fresh });
    }
    const jump = aggregates.current.null_rate - aggregates.reference.null_rate;
    if (Math.abs(jump) > nullRateThreshold) {
      issues.push({
        feature,
        issue: 'null_rate_jump',
        message: `${feature}: null rate ${percent(aggregates.reference.null_rate)} → ${percent(aggregates.current.null_rate)}`,
        reference: aggregates.reference.null_rate,
        current: aggregates.current.null_rate,
      });
    }
  }
  return {
    passed: issues.length === 0,
    null_rate_threshold: nullRateThreshold,
    features: matched.map(({ match, aggregates }) => ({
      feature: match.feature,
      reference_type: match.reference.type,
      current_type: match.current.type,
      reference_null_rate: aggregates?.reference.null_rate ?? null,
      current_null_rate: aggregates?.current.null_rate ?? null,
    })),
    issues,
  };
}

function percent(rate: number): string {
  return `${(rate * 100).toFixed(1)}%`;
}
