import { Controller, Get, Headers, HttpCode, Param, Post, Req } from '@nestjs/common';
import { ApiConsumes, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { Access } from '../auth/access.decorator';
import { RequestSignal } from '../common/request-signal';
import { DatasetService } from './dataset.service';
import { toDatasetDetailsBody, toDatasetSummaryBody, toSnapshotBody } from './dataset.mapper';

@ApiTags('lake')
@Access('reader')
@Controller('datasets')
export class LakeController {
  constructor(private readonly datasets: DatasetService) {}

  @Get()
  @ApiOperation({ summary: 'Datasets: declared in the registry and/or holding data in the lake.' })
  async list() {
    return { datasets: (await this.datasets.list()).map(toDatasetSummaryBody) };
  }

  @Get(':name')
  @ApiOperation({ summary: 'A dataset: schema, row count, time range and its snapshots.' })
  async describe(@Param('name') name: string) {
    return toDatasetDetailsBody(await this.datasets.describe(name));
  }

  @Access('writer')
  @Post(':name/files')
  @HttpCode(201)
  @ApiConsumes('application/vnd.apache.parquet', 'text/csv', 'application/x-ndjson')
  @ApiOperation({ summary: 'Ingest the request body (Parquet, CSV or JSON Lines, by Content-Type) as a new snapshot.' })
  async ingest(@Param('name') name: string, @Req() request: FastifyRequest, @RequestSignal() signal: AbortSignal, @Headers('content-type') contentType?: string) {
    return toSnapshotBody(await this.datasets.ingestStream(name, request.raw, contentType, signal));
  }
}
