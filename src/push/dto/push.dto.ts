import { ApiProperty } from '@nestjs/swagger';
import { IsIn, IsOptional } from 'class-validator';
import { ApiField } from '../../common/api-field.decorator';

export const PUSH_TARGETS = ['online', 'offline', 'online_and_offline'] as const;
export type PushTarget = (typeof PUSH_TARGETS)[number];

/** Feast's PushFeaturesRequest. */
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
}
