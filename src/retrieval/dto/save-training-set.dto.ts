import { ApiField } from '../../common/api-field.decorator';
import { GetHistoricalFeaturesDto } from './get-historical-features.dto';

export class SaveTrainingSetDto extends GetHistoricalFeaturesDto {
  @ApiField({ kind: 'string', required: true, description: 'A unique name (letters, digits, _).', example: 'delay_model_2026_11' })
  name!: string;

  @ApiField({ kind: 'string', description: 'What it is for.' })
  description?: string;
}
