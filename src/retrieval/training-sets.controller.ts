import { Body, Controller, Delete, Get, Headers, HttpCode, Param, Post, Query, StreamableFile } from '@nestjs/common';
import { ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { Access } from '../auth/access.decorator';
import { RequestSignal } from '../common/request-signal';
import { SaveTrainingSetDto } from './dto/save-training-set.dto';
import { parseEntitySource } from './entity-source';
import { CONTENT_TYPES, RESULT_FORMATS } from './result-encoder';
import { chooseFormat } from './result-format';
import { toTrainingSetBody } from './training-set.mapper';
import { TrainingSetsService } from './training-sets.service';

@ApiTags('training sets')
@Access('reader')
@Controller('training-sets')
export class TrainingSetsController {
  constructor(private readonly trainingSets: TrainingSetsService) {}

  @Access('writer')
  @Post()
  @HttpCode(201)
  @ApiOperation({ summary: 'Build a training set from pinned lake snapshots and save it in the lake with the metadata to rebuild it.' })
  async save(@Body() body: SaveTrainingSetDto, @RequestSignal() signal: AbortSignal) {
    const metadata = await this.trainingSets.save({
      name: body.name,
      description: body.description,
      features: body.features,
      featureService: body.feature_service,
      fullFeatureNames: body.full_feature_names,
      createdBeforeEvent: body.created_before_event,
      source: parseEntitySource(body),
    }, signal);
    return toTrainingSetBody(metadata);
  }

  @Get()
  @ApiOperation({ summary: 'Saved training sets.' })
  async list() {
    return { training_sets: (await this.trainingSets.list()).map(toTrainingSetBody) };
  }

  @Get(':name')
  @ApiOperation({ summary: 'A saved training set: registry version, snapshots, features, entity-row fingerprint, rows, schema, timings.' })
  async get(@Param('name') name: string) {
    return toTrainingSetBody(await this.trainingSets.get(name));
  }

  @Get(':name/data')
  @ApiQuery({ name: 'format', required: false, enum: RESULT_FORMATS })
  @ApiOperation({ summary: 'Download the rows (Parquet as saved, or CSV, JSON Lines, JSON, Arrow), streamed.' })
  async data(@Param('name') name: string, @Query('format') format?: string, @Headers('accept') accept?: string) {
    const chosen = chooseFormat(format, accept, 'parquet');
    const stream = await this.trainingSets.download(name, chosen);
    return new StreamableFile(stream, { type: CONTENT_TYPES[chosen], disposition: `attachment; filename="${name}.${chosen}"` });
  }

  @Access('writer')
  @Delete(':name')
  @ApiOperation({ summary: 'Delete a saved training set (its metadata, entity rows and data).' })
  async delete(@Param('name') name: string) {
    return { deleted: (await this.trainingSets.delete(name)).name };
  }

  @Post(':name/verify')
  @HttpCode(200)
  @ApiOperation({ summary: 'Rebuild the training set from its metadata alone and compare the Parquet bytes with the saved ones.' })
  async verify(@Param('name') name: string, @RequestSignal() signal: AbortSignal) {
    const result = await this.trainingSets.verify(name, signal);
    return { name, identical: result.identical, rows: result.rows, saved_sha256: result.savedSha256, rebuilt_sha256: result.rebuiltSha256 };
  }
}
