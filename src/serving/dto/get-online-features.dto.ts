import { ApiField } from '../../common/api-field.decorator';

/** Feast's /get-online-features request body. */
export class GetOnlineFeaturesDto {
  @ApiField({ kind: 'string[]', description: 'Feature references `view:feature`. Give this or feature_service.', example: ['airport_daily:avg_delay'] })
  features?: string[];

  @ApiField({ kind: 'string', description: 'A feature service name. Give this or features.', example: 'delay_model' })
  feature_service?: string;

  @ApiField({
    kind: 'columns',
    required: true,
    description: 'Entity rows, column-major: each join key maps to a list of values (one per row).',
    example: { airport: ['ORD', 'ATL'] },
  })
  entities!: Record<string, unknown[]>;

  @ApiField({ kind: 'boolean', description: 'Name features `view__feature` instead of `feature`.' })
  full_feature_names?: boolean;
}
