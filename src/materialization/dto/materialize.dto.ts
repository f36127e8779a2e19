import { ApiField } from '../../common/api-field.decorator';
import { FeastRequestBody } from '../../common/validation';

/** Feast's MaterializeRequest (fields it does not know are ignored, as Feast's model does). */
@FeastRequestBody()
export class MaterializeDto {
  @ApiField({ kind: 'string', description: 'Window start, ISO-8601 (UTC when no offset), inclusive. Required unless disable_event_timestamp.', example: '2001-01-01T00:00:00Z' })
  start_ts?: string;

  @ApiField({ kind: 'string', description: 'Window end, ISO-8601 (UTC when no offset), inclusive. Required unless disable_event_timestamp.', example: '2001-07-01T00:00:00Z' })
  end_ts?: string;

  @ApiField({ kind: 'string[]', description: 'Feature views to materialize (default: all).' })
  feature_views?: string[];

  @ApiField({ kind: 'boolean', description: "As Feast's: true materializes every row up to now, whatever its event time (start_ts and end_ts are then not read)." })
  disable_event_timestamp?: boolean;

  @ApiField({ kind: 'boolean', description: 'Accepted for Feast compatibility; online tables are keyed by view, so names do not change what is written.' })
  full_feature_names?: boolean;

  @ApiField({ kind: 'string', description: 'A feature view version (Feast view versioning): not supported, as featurelake versions the registry as a whole; leave it out.' })
  version?: string;
}

/** Feast's MaterializeIncrementalRequest (fields it does not know are ignored). */
@FeastRequestBody()
export class MaterializeIncrementalDto {
  @ApiField({ kind: 'string', required: true, description: 'Window end, ISO-8601 (UTC when no offset).', example: '2001-07-01T00:00:00Z' })
  end_ts!: string;

  @ApiField({ kind: 'string[]', description: 'Feature views to materialize (default: all).' })
  feature_views?: string[];

  @ApiField({ kind: 'boolean', description: 'Accepted for Feast compatibility; online tables are keyed by view, so names do not change what is written.' })
  full_feature_names?: boolean;

  @ApiField({ kind: 'string', description: 'A feature view version (Feast view versioning): not supported; leave it out.' })
  version?: string;
}
