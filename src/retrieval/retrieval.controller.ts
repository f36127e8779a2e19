import { Body, Controller, HttpCode, Post, Query, StreamableFile, UseInterceptors } from '@nestjs/common';
import { ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { ValidationFailedError } from '../common/errors';
import { RawJson, RawJsonInterceptor } from '../common/raw-json';
import { GetHistoricalFeaturesDto } from './dto/get-historical-features.dto';
import { HistoricalFeaturesService, HistoricalRequest } from './historical-features.service';

const FILE_TYPES = { parquet: 'application/vnd.apache.parquet', csv: 'text/csv' } as const;

@ApiTags('retrieval')
@Controller()
@UseInterceptors(RawJsonInterceptor)
export class RetrievalController {
  constructor(private readonly service: HistoricalFeaturesService) {}

  @Post('get-historical-features')
  @HttpCode(200)
  @ApiOperation({ summary: 'Point-in-time correct feature values for entity rows (training data).' })
  @ApiQuery({ name: 'format', required: false, enum: ['json', 'parquet', 'csv'] })
  async getHistoricalFeatures(@Body() body: GetHistoricalFeaturesDto, @Query('format') format = 'json'): Promise<RawJson | StreamableFile> {
    const request: HistoricalRequest = {
      features: body.features,
      featureService: body.feature_service,
      fullFeatureNames: body.full_feature_names,
      entities: body.entities,
    };
    if (format === 'json') return new RawJson(await this.service.columns(request));
    if (format !== 'parquet' && format !== 'csv') {
      throw new ValidationFailedError(`format: must be json, parquet or csv, got ${JSON.stringify(format)}`, { field: 'format' });
    }
    const file = await this.service.file(request, format);
    return new StreamableFile(file.stream, {
      type: FILE_TYPES[format],
      disposition: `attachment; filename="historical-features.${format}"`,
    });
  }
}
