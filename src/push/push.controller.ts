import { Body, Controller, Headers, HttpCode, Post, Res } from '@nestjs/common';
import { ApiHeader, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { parseIdempotencyKey } from '../common/idempotency-key';
import { Access } from '../auth/access.decorator';
import { PushDto, WriteToOnlineStoreDto } from './dto/push.dto';
import { PushService } from './push.service';

@ApiTags('push (Feast wire format)')
@Access('writer')
@Controller()
export class PushController {
  constructor(private readonly service: PushService) {}

  @Post('push')
  @HttpCode(200)
  @ApiOperation({ summary: "Write rows of a push source online, to the lake, or both (Feast's /push)." })
  @ApiHeader({ name: 'Idempotency-Key', required: false, description: 'Applies the push at most once: a retry with the same key and body gets the first answer again (Idempotent-Replayed: true), for 24 h.' })
  async push(@Body() body: PushDto, @Headers('idempotency-key') idempotencyKey: string | undefined, @Res({ passthrough: true }) reply: FastifyReply) {
    const result = await this.service.push({ pushSourceName: body.push_source_name, df: body.df, to: body.to ?? 'online' }, parseIdempotencyKey(idempotencyKey));
    if (result.replayed) void reply.header('idempotent-replayed', 'true');
    return {
      push_source_name: body.push_source_name,
      rows: result.rows,
      online: result.online && { feature_views: result.online.views, rows: result.online.rows },
      offline: result.offline && { dataset: result.offline.dataset, snapshot_id: result.offline.snapshotId },
    };
  }

  @Post('write-to-online-store')
  @HttpCode(200)
  @ApiOperation({ summary: "Write rows straight into a feature view's online table, newer values winning (Feast's /write-to-online-store, which RemoteOnlineStore uses)." })
  async writeToOnlineStore(@Body() body: WriteToOnlineStoreDto) {
    const result = await this.service.writeToView(body.feature_view_name, body.df);
    return { feature_view_name: body.feature_view_name, rows: result.rows };
  }
}
