import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { Access } from '../auth/access.decorator';
import { PushDto } from './dto/push.dto';
import { PushService } from './push.service';

@ApiTags('push (Feast wire format)')
@Access('writer')
@Controller()
export class PushController {
  constructor(private readonly service: PushService) {}

  @Post('push')
  @HttpCode(200)
  @ApiOperation({ summary: "Write rows of a push source online, to the lake, or both (Feast's /push)." })
  async push(@Body() body: PushDto) {
    const result = await this.service.push({ pushSourceName: body.push_source_name, df: body.df, to: body.to ?? 'online' });
    return {
      push_source_name: body.push_source_name,
      rows: result.rows,
      online: result.online && { feature_views: result.online.views, rows: result.online.rows },
      offline: result.offline && { dataset: result.offline.dataset, snapshot_id: result.offline.snapshotId },
    };
  }
}
