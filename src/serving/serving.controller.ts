import { Body, Controller, Header, HttpCode, PipeTransform, Post, Req } from '@nestjs/common';
import { ApiBody, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { Access } from '../auth/access.decorator';
import { GetOnlineFeaturesDto } from './dto/get-online-features.dto';
import { OnlineFeaturesRequest, OnlineFeaturesService } from './online-features.service';
import { parseOnlineRequest } from './online-request';

/** Validates the hot path's body without the DTO pipeline (see parseOnlineRequest). */
class OnlineRequestPipe implements PipeTransform<unknown, OnlineFeaturesRequest> {
  transform(body: unknown): OnlineFeaturesRequest {
    return parseOnlineRequest(body);
  }
}

@ApiTags('serving (Feast wire format)')
@Access('reader')
@Controller()
export class ServingController {
  constructor(private readonly service: OnlineFeaturesService) {}

  @Post('get-online-features')
  @HttpCode(200)
  @Header('Content-Type', 'application/json')
  @ApiBody({ type: GetOnlineFeaturesDto })
  @ApiOperation({ summary: 'Latest feature values per entity, with statuses and event timestamps (column-major).' })
  async getOnlineFeatures(@Body(OnlineRequestPipe) request: OnlineFeaturesRequest, @Req() http: FastifyRequest): Promise<string> {
    request.requestId = http.id; // the X-Request-Id, so a logged vector can be traced to its request
    // JSON text rather than an object: int64 values need our writer, and this route is too hot
    // for a per-request interceptor or an intermediate response object.
    return this.service.getJson(request);
  }
}
