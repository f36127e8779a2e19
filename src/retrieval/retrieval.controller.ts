import { Body, Controller, Headers, HttpCode, Post, Query, Req, StreamableFile } from '@nestjs/common';
import { ApiConsumes, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { Access } from '../auth/access.decorator';
import { UnsupportedMediaTypeError } from '../common/errors';
import { RequestSignal } from '../common/request-signal';
import { TempFiles } from '../common/temp-files';
import { AppConfig } from '../config/app-config';
import { CONTENT_TYPES as UPLOAD_TYPES } from '../lake/dataset-manifest';
import { GetHistoricalFeaturesDto } from './dto/get-historical-features.dto';
import { parseEntitySource } from './entity-source';
import { HistoricalFeaturesService } from './historical-features.service';
import { CONTENT_TYPES, RESULT_FORMATS } from './result-encoder';
import { chooseFormat } from './result-format';

@ApiTags('retrieval')
@Access('reader')
@Controller('get-historical-features')
export class RetrievalController {
  constructor(
    private readonly config: AppConfig,
    private readonly service: HistoricalFeaturesService,
    private readonly temp: TempFiles,
  ) {}

  @Post()
  @HttpCode(200)
  @ApiOperation({ summary: 'Point-in-time correct feature values for entity rows (training data), streamed in the chosen format.' })
  @ApiQuery({ name: 'format', required: false, enum: RESULT_FORMATS, description: 'json (Feast column-major), jsonl, csv, parquet or arrow (IPC stream); or negotiate with Accept' })
  async getHistoricalFeatures(
    @Body() body: GetHistoricalFeaturesDto,
    @RequestSignal() signal: AbortSignal,
    @Query('format') format?: string,
    @Headers('accept') accept?: string,
  ): Promise<StreamableFile> {
    const chosen = chooseFormat(format, accept);
    const result = await this.service.retrieve(
      {
        features: body.features,
        featureService: body.feature_service,
        fullFeatureNames: body.full_feature_names,
        createdBeforeEvent: body.created_before_event,
        source: parseEntitySource(body),
      },
      chosen,
      signal,
    );
    return file(result.stream, chosen);
  }

  @Post('upload')
  @HttpCode(200)
  @ApiConsumes('application/vnd.apache.parquet', 'text/csv', 'application/x-ndjson')
  @ApiOperation({ summary: 'The same, with the entity rows in the request body as a Parquet, CSV or JSON Lines file (other columns are kept).' })
  @ApiQuery({ name: 'features', required: false, description: 'comma-separated view:feature references' })
  @ApiQuery({ name: 'feature_service', required: false })
  @ApiQuery({ name: 'full_feature_names', required: false })
  @ApiQuery({ name: 'created_before_event', required: false })
  @ApiQuery({ name: 'format', required: false, enum: RESULT_FORMATS })
  async upload(
    @Req() request: FastifyRequest,
    @RequestSignal() signal: AbortSignal,
    @Headers('content-type') contentType: string | undefined,
    @Headers('accept') accept: string | undefined,
    @Query() query: Record<string, string | undefined>,
  ): Promise<StreamableFile> {
    const fileFormat = UPLOAD_TYPES[(contentType ?? '').split(';')[0].trim().toLowerCase()];
    if (!fileFormat) throw new UnsupportedMediaTypeError('send the entity rows as Parquet (application/vnd.apache.parquet), CSV (text/csv) or JSON Lines (application/x-ndjson)');
    const chosen = chooseFormat(query.format, accept);
    const path = await this.temp.fromStream(request.raw, `.${fileFormat}`, this.config.limits.maxUploadBytes);
    try {
      const result = await this.service.retrieve(
        {
          features: query.features?.split(',').map((f) => f.trim()),
          featureService: query.feature_service,
          fullFeatureNames: query.full_feature_names === 'true',
          createdBeforeEvent: query.created_before_event === 'true',
          source: { kind: 'file', path, format: fileFormat, name: 'uploaded entity rows' },
        },
        chosen,
        signal,
      );
      result.stream.once('close', () => void this.temp.remove(path));
      return file(result.stream, chosen);
    } catch (error) {
      await this.temp.remove(path);
      throw error;
    }
  }
}

function file(stream: NodeJS.ReadableStream, format: keyof typeof CONTENT_TYPES): StreamableFile {
  const extension = format === 'jsonl' ? 'jsonl' : format;
  return new StreamableFile(stream as never, {
    type: CONTENT_TYPES[format],
    disposition: format === 'json' ? undefined : `attachment; filename="historical-features.${extension}"`,
  });
}
