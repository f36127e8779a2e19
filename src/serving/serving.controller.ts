import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { RawJson } from '../common/raw-json';
import { GetOnlineFeaturesDto } from './dto/get-online-features.dto';
import { OnlineFeaturesService } from './online-features.service';

@ApiTags('serving (Feast wire format)')
@Controller()
export class ServingController {
  constructor(private readonly service: OnlineFeaturesService) {}

  @Post('get-online-features')
  @HttpCode(200)
  @ApiOperation({ summary: 'Latest feature values per entity, with statuses and event timestamps (column-major).' })
  async getOnlineFeatures(@Body() body: GetOnlineFeaturesDto): Promise<RawJson> {
    return new RawJson(
      await this.service.get({
        features: body.features,
        featureService: body.feature_service,
        fullFeatureNames: body.full_feature_names,
        entities: body.entities,
      }),
    );
  }
}
