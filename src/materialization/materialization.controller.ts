import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { requireTimestamp } from '../core/timestamp';
import { MaterializeDto, MaterializeIncrementalDto } from './dto/materialize.dto';
import { toMaterializationBody } from './materialization.mapper';
import { MaterializationService } from './materialization.service';

@ApiTags('materialization (Feast wire format)')
@Controller()
export class MaterializationController {
  constructor(private readonly service: MaterializationService) {}

  @Post('materialize')
  @HttpCode(200)
  @ApiOperation({ summary: 'Recompute [start_ts, end_ts] of feature views from the lake into the offline and online stores.' })
  async materialize(@Body() body: MaterializeDto) {
    const start = requireTimestamp(body.start_ts, 'start_ts');
    const end = requireTimestamp(body.end_ts, 'end_ts');
    return toMaterializationBody(await this.service.materialize(start, end, body.feature_views));
  }

  @Post('materialize-incremental')
  @HttpCode(200)
  @ApiOperation({ summary: "Materialize each view from where its last run ended up to end_ts." })
  async materializeIncremental(@Body() body: MaterializeIncrementalDto) {
    return toMaterializationBody(await this.service.materializeIncremental(requireTimestamp(body.end_ts, 'end_ts'), body.feature_views));
  }
}
