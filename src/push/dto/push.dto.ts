import { ApiProperty } from '@nestjs/swagger';
import { IsIn, IsOptional } from 'class-validator';
import { ApiField } from '../../common/api-field.decorator';
import { FeastRequestBody } from '../../common/validation';

export const PUSH_TARGETS = ['online', 'offline', 'online_and_offline'] as const;
export type PushTarget = (typeof PUSH_TARGETS)[number];

/** Feast's PushFeaturesRequest (fields it does not know are ignored, as Feast's model does). */
@FeastRequestBody()
export class PushDto {
  @ApiField({ kind: 'string', required: true, description: 'A push source declared in the feature repo.', example: 'airport_conditions_push' })
  push_source_name!: string;

  @ApiField({
    kind: 'columns',
    required: true,
    description: "Rows, column-major: the dataset's timestamp field, the join keys and features of the views it feeds (timestamps as ISO-8601 text).",
    example: { airport: ['ORD'], observed_at: ['2026-11-29T12:00:00Z'], visibility_miles: [9.5], wind_knots: [12], ground_stop: [false] },
  })
  df!: Record<string, unknown[]>;

  @ApiProperty({ enum: PUSH_TARGETS, required: false, description: 'Where the rows go (default online).' })
  @IsOptional()
  @IsIn(PUSH_TARGETS, { message: `$property must be one of ${PUSH_TARGETS.join(', ')}` })
  to?: PushTarget;

  @ApiField({ kind: 'boolean', description: "Accepted for Feast compatibility; the registry is always served from memory." })
  allow_registry_cache?: boolean;

  @ApiField({ kind: 'boolean', description: 'Accepted for Feast compatibility; featurelake has no on-demand transformations to run on write.' })
  transform_on_write?: boolean;
}

/** Feast's WriteToFeatureStoreRequest, what RemoteOnlineStore.online_write_batch sends. */
@FeastRequestBody()
export class WriteToOnlineStoreDto {
  @ApiField({ kind: 'string', required: true, description: 'The feature view whose online table gets the rows.', example: 'airport_conditions' })
  feature_view_name!: string;

  @ApiField({
    kind: 'columns',
    required: true,
    description:
      "Rows, column-major: the view's join keys and features, and the event time as `event_timestamp` or the dataset's timestamp field (created time: `created` or the dataset's created field; ISO-8601 text, UTC when no offset).",
    example: { airport: ['ORD'], event_timestamp: ['2026-11-29T12:00:00'], visibility_miles: [9.5], wind_knots: [12], ground_stop: [false] },
  })
  df!: Record<string, unknown[]>;

  @ApiField({ kind: 'boolean', description: 'Accepted for Feast compatibility; the registry is always served from memory.' })
  allow_registry_cache?: boolean;

  @ApiField({ kind: 'boolean', description: 'Accepted for Feast compatibility; featurelake has no on-demand transformations to run on write.' })
  transform_on_write?: boolean;
}
