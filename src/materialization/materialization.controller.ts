import { Body, Controller, HttpCode, Post, Query, Res } from '@nestjs/common';
import { ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { Access } from '../auth/access.decorator';
import { ValidationFailedError } from '../common/errors';
import { Micros, nowMicros, requireTimestamp } from '../core/timestamp';
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
    refuseVersion(body.version);
    const { start, end } = body.disable_event_timestamp ? { start: 0n, end: nowMicros() } : window(body);
    const background = isAsync(asyncFlag);
    return this.respond(await this.jobs.submit({ kind: 'materialize', start, end, views: body.feature_views }), background, reply);
  }

  @Post('materialize-incremental')
  @HttpCode(200)
  @ApiQuery({ name: 'async', required: false, description: 'true: answer 202 with the job at once instead of waiting for it' })
  @ApiOperation({ summary: 'Materialize what arrived in the lake since each view\'s last run (late events included), up to end_ts, as a job.' })
  async materializeIncremental(@Body() body: MaterializeIncrementalDto, @Query('async') asyncFlag: string | undefined, @Res({ passthrough: true }) reply: FastifyReply) {
    refuseVersion(body.version);
    const end = requireTimestamp(body.end_ts, 'end_ts');
    const background = isAsync(asyncFlag);
    return this.respond(await this.jobs.submit({ kind: 'materialize-incremental', end, views: body.feature_views }), background, reply);
  }

  /** The job's id also goes in `X-Job-Id`: a failed run answers with Feast's error detail, which has no room for it. */
  private async respond(job: Job, background: boolean, reply: FastifyReply) {
    void reply.header('x-job-id', job.id);
    if (background) {
      void reply.status(202);
      return toJobBody(job);
    }
    return toJobBody(await this.jobs.wait(job.id));
  }
}

/** The window a materialization names; both ends are required unless disable_event_timestamp. */
function window(body: MaterializeDto): { start: Micros; end: Micros } {
  const bound = (field: 'start_ts' | 'end_ts'): Micros => {
    const text = body[field];
    if (text === undefined) throw new ValidationFailedError(`${field}: is required unless disable_event_timestamp is true`, { field });
    return requireTimestamp(text, field);
  };
  return { start: bound('start_ts'), end: bound('end_ts') };
}

/** Feast's per-view versions (view versioning) have no counterpart here: the registry is versioned as a whole. */
function refuseVersion(version: string | undefined): void {
  if (version === undefined) return;
  throw new ValidationFailedError('version: featurelake does not version feature views one by one (the registry is versioned as a whole); leave version out', { field: 'version' });
}

function isAsync(flag: string | undefined): boolean {
  if (flag === undefined || flag === 'false' || flag === '0') return false;
  if (flag === 'true' || flag === '1' || flag === '') return true;
  throw new ValidationFailedError(`async: must be true or false, got ${JSON.stringify(flag)}`, { field: 'async' });
}
