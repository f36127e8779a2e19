import { Body, Controller, Get, Header, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { Access } from '../../auth/access.decorator';
import { ValidationFailedError } from '../../common/errors';
import { RequestSignal } from '../../common/request-signal';
import { parseSkewSpec } from '../../core/skew/skew-spec';
import { RunSkewCheckDto } from './dto/run-skew-check.dto';
import { SkewChecksService } from './skew-checks.service';

@ApiTags('monitoring')
@Access('reader')
@Controller('skew-checks')
export class SkewChecksController {
  constructor(private readonly checks: SkewChecksService) {}

  @Post()
  @HttpCode(201)
  @ApiOperation({ summary: 'Run a skew check now (consistency, distribution drift, schema skew); the result is stored with its HTML report.' })
  async run(@Body() body: RunSkewCheckDto, @RequestSignal() signal: AbortSignal) {
    return this.checks.runRequested(parseSkewSpec(body), signal);
  }

  @Post('declared/:name')
  @HttpCode(201)
  @ApiOperation({ summary: 'Run a check declared under skew_checks: in the feature repo, now.' })
  async runDeclared(@Param('name') name: string, @RequestSignal() signal: AbortSignal) {
    return this.checks.runDeclared(name, signal);
  }

  @Get()
  @ApiQuery({ name: 'name', required: false, description: "only this check's runs" })
  @ApiQuery({ name: 'limit', required: false, description: 'at most this many (default 50), newest first' })
  @ApiOperation({ summary: 'Stored skew check results, newest first.' })
  async list(@Query('name') name?: string, @Query('limit') limit?: string) {
    const count = limit === undefined ? 50 : Number(limit);
    if (!Number.isInteger(count) || count < 1 || count > 1000) throw new ValidationFailedError('limit: must be a whole number from 1 to 1000', { field: 'limit' });
    const results = await this.checks.list(count, name);
    return { skew_checks: results.map((r) => ({ id: r.id, name: r.name, created_at: r.created_at, status: r.status, checks: r.checks, reference: r.reference?.label ?? null, current: r.current.label })) };
  }

  @Get(':id')
  @ApiOperation({ summary: 'One result (JSON, format 1).' })
  async get(@Param('id') id: string) {
    return this.checks.get(id);
  }

  @Get(':id/report')
  @Header('Content-Type', 'text/html; charset=utf-8')
  @ApiOperation({ summary: 'The HTML report: one self-contained file (no network needed to open it).' })
  async report(@Param('id') id: string): Promise<string> {
    return (await this.checks.report(id)).toString('utf8');
  }
}
