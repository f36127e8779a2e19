import { ApiField } from '../../common/api-field.decorator';

/** Entity rows come from exactly one of entities, entity_dataset and time_range. */
export class GetHistoricalFeaturesDto {
  @ApiField({ kind: 'string[]', description: 'Feature references `view:feature`. Give this or feature_service.', example: ['airport_daily:avg_delay'] })
  features?: string[];

  @ApiField({ kind: 'string', description: 'A feature service name. Give this or features.' })
  feature_service?: string;

  @ApiField({
    kind: 'columns',
    description: 'Entity rows, column-major: the join keys and `event_timestamp` (ISO-8601, UTC when no offset), one value per row.',
    example: { airport: ['ORD', 'ORD'], event_timestamp: ['2001-03-01T00:00:00Z', '2001-03-02T12:00:00Z'] },
  })
  entities?: Record<string, unknown[]>;

  @ApiField({
    kind: 'object',
    description:
      'Entity rows from a lake dataset: `{name, snapshot_id?, start?, end?, filters?: [{column, op, value}], key_columns?: {join_key: column}, timestamp_column?}`. ' +
      'op is one of = != < <= > >= in, not in, is null, is not null; values are bound, never SQL. All the dataset\'s columns are kept (labels included).',
    example: { name: 'flights', start: '2026-09-01T00:00:00Z', filters: [{ column: 'origin', op: 'in', value: ['ORD', 'ATL'] }], key_columns: { airport: 'origin' } },
  })
  entity_dataset?: Record<string, unknown>;

  @ApiField({ kind: 'object', description: 'No entity rows: every entity\'s feature rows with event time in `{start, end}`.', example: { start: '2026-11-01T00:00:00Z', end: '2026-11-02T00:00:00Z' } })
  time_range?: Record<string, unknown>;

  @ApiField({ kind: 'boolean', description: 'Name features `view__feature` instead of `feature`.' })
  full_feature_names?: boolean;

  @ApiField({ kind: 'boolean', description: 'Only use feature rows created at or before each entity row\'s time (no backfill leaks into the past).' })
  created_before_event?: boolean;
}
