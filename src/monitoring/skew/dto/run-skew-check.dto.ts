import { ApiField } from '../../../common/api-field.decorator';

const SIDE =
  'One of `{training_set: NAME}`, `{serving_logs: {feature_service, start?, end?, last?}}`, `{dataset: NAME | {name, snapshot_id?}}`, ' +
  '`{feature_view: {name, start?, end?, last?}}`. Times are ISO-8601; `last` is a duration (`30m`, `1h`, `7d`) ending now.';

/** A skew check on demand; the same fields as an entry of `skew_checks:` in the feature repo (core/skew/skew-spec). */
export class RunSkewCheckDto {
  @ApiField({ kind: 'string', description: 'Groups results: /metrics shows the latest result per name.' })
  name?: string;

  @ApiField({ kind: 'object', description: `The baseline. ${SIDE}`, example: { training_set: 'delay_training' } })
  reference?: Record<string, unknown>;

  @ApiField({ kind: 'object', required: true, description: `The data to check. ${SIDE}`, example: { serving_logs: { feature_service: 'delay_model', last: '1h' } } })
  current!: Record<string, unknown>;

  @ApiField({
    kind: 'string[]',
    description: 'Any of consistency (current must be serving_logs), distribution and schema (both need a reference). Default: all that the sides allow.',
    example: ['consistency', 'distribution', 'schema'],
  })
  checks?: string[];

  @ApiField({ kind: 'string[]', description: 'Only these features (`view:feature`, or dataset column names).' })
  features?: string[];

  @ApiField({ kind: 'number', description: 'Consistency: a feature fails above this share of inconsistent rows (default 0.01).' })
  consistency_threshold?: number;

  @ApiField({ kind: 'number', description: 'Distribution: dataset drift when at least this share of features drift (default 0.5; 0 = any).' })
  drift_share?: number;

  @ApiField({ kind: 'number', description: 'Schema: largest allowed change of a null rate (default 0.1).' })
  null_rate_threshold?: number;

  @ApiField({ kind: 'string', description: 'POSTed a JSON summary when the check fails.' })
  webhook?: string;
}
