import { Body, Controller, Get, Headers, HttpCode, Param, Post, Query, Req, Res } from '@nestjs/common';
import { ApiConsumes, ApiHeader, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Access } from '../auth/access.decorator';
import { RequestSignal } from '../common/request-signal';
import { ValidationFailedError } from '../common/errors';
import { DatasetService } from './dataset.service';
import { IngestOnce } from './ingest-once';
import { parseIdempotencyKey } from '../common/idempotency-key';
import { toDatasetDetailsBody, toDatasetSummaryBody, toSnapshotBody } from './dataset.mapper';

@ApiTags('lake')
@Access('reader')
@Controller('datasets')
export class LakeController {
  constructor(
    private readonly datasets: DatasetService,
    private readonly once: IngestOnce,
  ) {}

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
  @Post(':name/rollback')
  @HttpCode(201)
  @ApiOperation({ summary: 'Commit a new snapshot equal to an earlier one (`{"to_snapshot": N}`); views recompute in full at their next run.' })
  async rollback(@Param('name') name: string, @Body() body: unknown) {
    return toSnapshotBody(await this.datasets.rollback(name, snapshotField(body)));
  }

  @Access('writer')
  @Post(':name/files')
  @HttpCode(201)
  @ApiConsumes('application/vnd.apache.parquet', 'text/csv', 'application/x-ndjson')
  @ApiHeader({ name: 'Idempotency-Key', required: false, description: 'Ingests the body at most once: a retry with the same key and body gets the first answer again (Idempotent-Replayed: true), for 24 h.' })
  @ApiOperation({
    summary: 'Ingest the request body (Parquet, CSV or JSON Lines, by Content-Type) as a new snapshot: 201; the same bytes again: 200 with the snapshot that holds them and `skipped` (unless ?allow_duplicate=true).',
  })
  async ingest(
    @Param('name') name: string,
    @Req() request: FastifyRequest,
    @RequestSignal() signal: AbortSignal,
    @Res({ passthrough: true }) reply: FastifyReply,
    @Query('allow_duplicate') allowDuplicate?: string,
    @Headers('content-type') contentType?: string,
    @Headers('idempotency-key') idempotencyKey?: string,
  ) {
    const options = { allowDuplicate: parseFlag(allowDuplicate, 'allow_duplicate'), key: parseIdempotencyKey(idempotencyKey) };
    const snapshot = await this.once.ingest(name, request.raw, contentType, options, signal);
    if (snapshot.replayed) void reply.header('idempotent-replayed', 'true');
    if (snapshot.skipped?.length) reply.status(200); // nothing was added: the answer names the snapshot that has these bytes
    return { ...toSnapshotBody(snapshot), ...(snapshot.skipped ? { skipped: snapshot.skipped.map((d) => ({ file: d.file, snapshot_id: d.snapshotId })) } : {}) };
  }
}

/** `POST /datasets/{name}/rollback`: `{"to_snapshot": 3}`. */
function snapshotField(body: unknown): number {
  const to = (body as { to_snapshot?: unknown } | null)?.to_snapshot;
  if (!Number.isInteger(to) || (to as number) < 1) throw new ValidationFailedError(`to_snapshot: must be a snapshot id (a whole number from 1), got ${JSON.stringify(to)}`, { field: 'to_snapshot' });
  return to as number;
}

/** `true` or `false` (absent: false); anything else names the parameter. */
function parseFlag(value: string | undefined, field: string): boolean {
  if (value === undefined || value === 'false') return false;
  if (value === 'true') return true;
  throw new ValidationFailedError(`${field}: must be true or false, got ${JSON.stringify(value)}`, { field });
}
