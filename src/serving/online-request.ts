import { ValidationFailedError } from '../common/errors';
import { isPlainObject } from '../common/field-reader';
import { OnlineFeaturesRequest } from './online-features.service';

/**
 * Checks a /get-online-features body with plain code instead of class-validator: this is the
 * hot path, and the DTO pipeline (class-transformer + class-validator) cost a quarter of its
 * throughput (bench/README.md). Every problem is named by field, with the ValidationPipe's error
 * shape. As Feast's request model does, it ignores fields it does not know (Feast's clients send
 * fields newer servers added), and a `feature_service` wins over `features` (Feast's clients
 * send `features: []` beside it).
 */
export function parseOnlineRequest(body: unknown): OnlineFeaturesRequest {
  const problems: { field: string; problem: string }[] = [];
  if (!isPlainObject(body)) throw invalid([{ field: 'body', problem: 'must be a JSON object' }]);
  const { features, feature_service: featureService, entities, full_feature_names: fullFeatureNames, include_feature_view_version_metadata: withViews } = body;
  const serviceGiven = featureService !== undefined && featureService !== null;
  if (features !== undefined && features !== null && (!Array.isArray(features) || features.some((f) => typeof f !== 'string'))) {
    problems.push({ field: 'features', problem: 'must be a list of strings' });
  }
  if (serviceGiven && typeof featureService !== 'string') problems.push({ field: 'feature_service', problem: 'must be a string' });
  if (!serviceGiven && !(Array.isArray(features) && features.length > 0)) problems.push({ field: 'features', problem: 'give a non-empty list of features, or a feature_service' });
  if (!isPlainObject(entities) || !Object.values(entities).every(Array.isArray)) {
    problems.push({ field: 'entities', problem: 'must map each column name to an array of values' });
  }
  for (const [field, value] of [['full_feature_names', fullFeatureNames], ['include_feature_view_version_metadata', withViews]] as const) {
    if (value !== undefined && value !== null && typeof value !== 'boolean') problems.push({ field, problem: 'must be true or false' });
  }
  if (problems.length > 0) throw invalid(problems);
  return {
    ...(serviceGiven ? { featureService: featureService as string } : { features: features as string[] }),
    fullFeatureNames: (fullFeatureNames ?? undefined) as boolean | undefined,
    includeViewMetadata: withViews === true,
    entities: entities as Record<string, unknown[]>,
  };
}

function invalid(problems: { field: string; problem: string }[]): ValidationFailedError {
  return new ValidationFailedError(problems.map((p) => `${p.field}: ${p.problem}`).join('; '), { fields: problems });
}
