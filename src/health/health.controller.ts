import { Controller, Get, Res } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { Access } from '../auth/access.decorator';
import { HealthService } from './health.service';

@ApiTags('health')
@Controller('health')
export class HealthController {
  constructor(private readonly health: HealthService) {}

  @Get()
  @Access('public')
  @ApiOperation({ summary: '200 {"status":"ok"} when the server and its online store answer; 503 {"status":"degraded"} otherwise (within limits.health_timeout_ms).' })
  async check(@Res({ passthrough: true }) response: FastifyReply) {
    const status = await this.health.status();
    if (status !== 'ok') void response.status(503);
    return { status };
  }

  @Get('details')
  @Access('reader')
  @ApiOperation({ summary: 'Each backend (online store, lake) with its answer time or error, the project and registry version; 503 when degraded.' })
  async details(@Res({ passthrough: true }) response: FastifyReply) {
    const details = await this.health.details();
    if (details.status !== 'ok') void response.status(503);
    return details;
  }
}
