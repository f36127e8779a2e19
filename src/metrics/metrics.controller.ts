import { Controller, Get, Header, Res } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { Access } from '../auth/access.decorator';
import { Metrics } from './metrics';

@ApiTags('monitoring')
@Access('reader')
@Controller('metrics')
export class MetricsController {
  constructor(private readonly metrics: Metrics) {}

  @Get()
  @Header('Cache-Control', 'no-store')
  @ApiOperation({ summary: 'Prometheus metrics: the latest result of each skew check, and feature logging counters.' })
  async scrape(@Res({ passthrough: true }) response: FastifyReply): Promise<string> {
    void response.type(this.metrics.contentType);
    return this.metrics.text();
  }
}
