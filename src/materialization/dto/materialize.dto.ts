import { ApiField } from '../../common/api-field.decorator';

/** Feast's MaterializeRequest. */
export class MaterializeDto {
  @ApiField({ kind: 'string', required: true, description: 'Window start, ISO-8601 (UTC when no offset), inclusive.', example: '2001-01-01T00:00:00Z' })
  start_ts!: string;

  @ApiField({ kind: 'string', required: true, description: 'Window end, ISO-8601 (UTC when no offset), inclusive.', example: '2001-07-01T00:00:00Z' })
  end_ts!: string;

  @ApiField({ kind: 'string[]', description: 'Feature views to materialize (default: all).' })
  feature_views?: string[];
}

/** Feast's MaterializeIncrementalRequest. */
export class MaterializeIncrementalDto {
  @ApiField({ kind: 'string', required: true, description: 'Window end, ISO-8601 (UTC when no offset).', example: '2001-07-01T00:00:00Z' })
  end_ts!: string;

  @ApiField({ kind: 'string[]', description: 'Feature views to materialize (default: all).' })
  feature_views?: string[];
}
