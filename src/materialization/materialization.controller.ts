import { Body, Controller, HttpCode, Post, Query, Res } from '@nestjs/common';
import { ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { Access } from '../auth/access.decorator';
import { ValidationFailedError } from '../common/errors';
import { requireTimestamp } from '../core/timestamp';
import { MaterializeDto, MaterializeIncrementalDto } from './dto/materialize.dto';
import { Job } from './job';
import { toJobBody } from './job.mapper';
import { MaterializationJobs } from './materialization-jobs.service';

@ApiTags('materialization (Feast wire format)')
@Access('writer')
@Controller()
export class MaterializationController {
  constructor(private readonly jobs: MaterializationJobs) {}

  @Post('materialize')
  @HttpCode(200)
  @ApiQuery({ name: 'async', required: false, description: 'true: answer 202 with the job at once instead of waiting for it' })
  @ApiOperation({ summary: 'Recompute [start_ts, end_ts] of feature views from the lake into the offline and online stores, as a job.' })
  async materialize(@Body() body: MaterializeDto, @Query('async') asyncFlag: string | undefined, @Res({ passthrough: true }) reply: FastifyReply) {
    const start = requireTimestamp(body.start_ts, 'start_ts');
    const end = requireTimestamp(body.end_ts, 'end_ts');
    const background = isAsync(asyncFlag);
    return this.respond(await this.jobs.submit({ kind: 'materialize', start, end, views: body.feature_views }), background, reply);
  }

  @Post('materialize-incremental')
  @HttpCode(200)
  @ApiQuery({ name: 'async', required: false, description: 'true: answer 202 with the job at once instead of waiting for it' })
  @ApiOperation({ summary: 'Materialize what arrived in the lake since each view\'s last run (late events included), up to end_ts, as a job.' })
  async materializeIncremental(@Body() body: MaterializeIncrementalDto, @Query('async') asyncFlag: string | undefined, @Res({ passthrough: true }) reply: FastifyReply) {
    const end = requireTimestamp(body.end_ts, 'end_ts');
    const background = isAsync(asyncFlag);
    return this.respond(await this.jobs.submit({ kind: 'materialize-incremental', end, views: body.feature_views }), background, reply);
  }

  private async respond(job: Job, background: boolean, reply: FastifyReply) {
    if (background) {
      void reply.status(202);
      return toJobBody(job);
    }
    return toJobBody(await this.jobs.wait(job.id));
  }
}

function isAsync(flag: string | undefined): boolean {
  if (flag === undefined || flag === 'false' || flag === '0') return false;
  if (flag === 'true' || flag === '1' || flag === '') return true;
  throw new ValidationFailedError(`async: must be true or false, got ${JSON.stringify(flag)}`, { field: 'async' });
}
