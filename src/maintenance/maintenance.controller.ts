import { Controller, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { Access } from '../auth/access.decorator';
import { ValidationFailedError } from '../common/errors';
import { RequestSignal } from '../common/request-signal';
import { CompactionResult } from '../lake/dataset-compaction';
import { toSnapshotBody } from '../lake/dataset.mapper';
import { ComputeCalls } from '../queue/compute-calls';
import { COMPACT_CALL, CompactCall } from './lake-maintenance';

/** The lake's upkeep over HTTP: compaction runs where compute runs (a worker), never in the server. */
@ApiTags('lake')
@Access('writer')
@Controller('datasets')
export class MaintenanceController {
  constructor(private readonly calls: ComputeCalls) {}

  @Post(':name/compact')
  @HttpCode(200)
  @ApiOperation({ summary: "Rewrite the dataset's (or a feature log's) small files that its views have consumed as few, as a new snapshot with the same rows (`snapshot: null` when there is nothing to compact); `?all=true`: every small file." })
  @ApiQuery({ name: 'all', required: false, type: Boolean })
  async compact(@Param('name') name: string, @Query('all') all: string | undefined, @RequestSignal() signal: AbortSignal) {
    if (all !== undefined && all !== 'true' && all !== 'false') throw new ValidationFailedError(`all: must be true or false, got ${JSON.stringify(all)}`, { field: 'all' });
    const result = await this.calls.run<CompactCall, CompactionResult>(COMPACT_CALL, { name, all: all === 'true' }, signal);
    return { snapshot: result.snapshot && toSnapshotBody(result.snapshot), merged_files: result.mergedFiles, new_files: result.newFiles, consumed_up_to: result.consumedUpTo ?? null };
  }
}
