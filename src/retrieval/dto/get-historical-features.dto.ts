import { ApiField } from '../../common/api-field.decorator';

export class GetHistoricalFeaturesDto {
  @ApiField({ kind: 'string[]', description: 'Feature references `view:feature`. Give this or feature_service.', example: ['airport_daily:avg_delay'] })
  features?: string[];

  @ApiField({ kind: 'string', description: 'A feature service name. Give this or features.' })
  feature_service?: string;

  @ApiField({
    kind: 'columns',
    required: true,
    description: 'Entity rows, column-major: the join keys and `event_timestamp` (ISO-8601, UTC when no offset), one value per row.',
    example: { airport: ['ORD', 'ORD'], event_timestamp: ['2001-03-01T00:00:00Z', '2001-03-02T12:00:00Z'] },
  })
  entities!: Record<string, unknown[]>;

  @ApiField({ kind: 'boolean', description: 'Name features `view__feature` instead of `feature`.' })
  full_feature_names?: boolean;
}
