import { Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { Access } from '../auth/access.decorator';
import { ValidationFailedError } from '../common/errors';
import { toJobBody } from './job.mapper';
import { MaterializationJobs } from './materialization-jobs.service';

@ApiTags('jobs')
@Access('writer')
@Controller('jobs')
export class JobsController {
  constructor(private readonly jobs: MaterializationJobs) {}

  @Get()
  @ApiQuery({ name: 'limit', required: false, description: 'how many of the most recent jobs (default 100, at most 1000)' })
  @ApiOperation({ summary: 'Materialization jobs, most recent first (history survives restarts).' })
  async list(@Query('limit') limit = '100') {
    const n = Number(limit);
    if (!Number.isInteger(n) || n < 1 || n > 1000) throw new ValidationFailedError('limit: must be a whole number from 1 to 1000', { field: 'limit' });
    return { jobs: (await this.jobs.list(n)).map(toJobBody) };
  }

  @Get(':id')
  @ApiOperation({ summary: 'One job: state, views, window, rows read and written, progress, timings, error.' })
  async get(@Param('id') id: string) {
    return toJobBody(await this.jobs.get(id));
  }

  @Access('admin')
  @Post(':id/cancel')
  @HttpCode(200)
  @ApiOperation({ summary: 'Cancel a queued job, or stop a running one at its next safe point (stores stay consistent).' })
  async cancel(@Param('id') id: string) {
    return toJobBody(await this.jobs.cancel(id));
  }
}
