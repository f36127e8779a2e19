import { ValidationFailedError } from '../common/errors';
import { isPlainObject } from '../common/field-reader';
import { OnlineFeaturesRequest } from './online-features.service';

const FIELDS = ['features', 'feature_service', 'entities', 'full_feature_names'];

/**
 * Checks a /get-online-features body with plain code instead of class-validator: this is the
 * hot path, and the DTO pipeline (class-transformer + class-validator) cost a quarter of its
 * throughput (bench/README.md). Same rules and the same error shape as the ValidationPipe:
 * unknown fields rejected, every problem named by field.
 */
export function parseOnlineRequest(body: unknown): OnlineFeaturesRequest {
  const problems: { field: string; problem: string }[] = [];
  if (!isPlainObject(body)) throw invalid([{ field: 'body', problem: 'must be a JSON object' }]);
  for (const key of Object.keys(body)) if (!FIELDS.includes(key)) problems.push({ field: key, problem: 'unknown field' });
  const { features, feature_service: featureService, entities, full_feature_names: fullFeatureNames } = body;
  if (features !== undefined && (!Array.isArray(features) || features.length === 0 || features.some((f) => typeof f !== 'string'))) {
    problems.push({ field: 'features', problem: 'must be a non-empty list of strings' });
  }
  if (featureService !== undefined && typeof featureService !== 'string') problems.push({ field: 'feature_service', problem: 'must be a string' });
  if (!isPlainObject(entities) || !Object.values(entities).every(Array.isArray)) {
    problems.push({ field: 'entities', problem: 'must map each column name to an array of values' });
  }
  if (fullFeatureNames !== undefined && typeof fullFeatureNames !== 'boolean') problems.push({ field: 'full_feature_names', problem: 'must be true or false' });
  if (problems.length > 0) throw invalid(problems);
  return {
    features: features as string[] | undefined,
    featureService: featureService as string | undefined,
    fullFeatureNames: fullFeatureNames as boolean | undefined,
    entities: entities as Record<string, unknown[]>,
  };
}

function invalid(problems: { field: string; problem: string }[]): ValidationFailedError {
  return new ValidationFailedError(problems.map((p) => `${p.field}: ${p.problem}`).join('; '), { fields: problems });
}
