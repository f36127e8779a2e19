import { Controller, Get, Res } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { Access } from '../auth/access.decorator';
import { HealthService } from './health.service';

@ApiTags('health')
@Access('public')
@Controller('health')
export class HealthController {
  constructor(private readonly health: HealthService) {}

  @Get()
  @ApiOperation({ summary: '200 when the server and its online store answer; 503 (degraded) otherwise.' })
  async check(@Res({ passthrough: true }) response: FastifyReply) {
    const report = await this.health.check();
    if (report.status !== 'ok') void response.status(503);
    return report;
  }
}
