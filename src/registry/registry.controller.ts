import { Controller, Get } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { Access } from '../auth/access.decorator';
import { toRegistryBody } from './registry.mapper';
import { RegistryService } from './registry.service';

@ApiTags('registry')
@Access('admin')
@Controller('registry')
export class RegistryController {
  constructor(private readonly registry: RegistryService) {}

  @Get()
  @ApiOperation({ summary: 'The applied feature definitions and their version.' })
  async current() {
    await this.registry.refresh(); // an admin read: show the lake's latest, not the cached version
    return toRegistryBody((await this.registry.catalog()).registry);
  }
}
