import { Injectable, Logger } from '@nestjs/common';
import { TempFiles } from '../common/temp-files';
import { withWorkControl } from '../common/work-control';
import { AppConfig } from '../config/app-config';
import { HistoricalQuery, OfflineStore, QueryControl, ResultFile } from '../offline-store/offline-store';
import { CallContext } from '../queue/job-queue';
import { ComputeCalls } from '../queue/compute-calls';
import { ScratchObjects } from '../storage/scratch-objects';
import { HistoricalQueries, HistoricalRequest, PinnedSource } from './historical-queries';

/**
 * A join as plain JSON, so that any worker can rebuild its query: the registry version, the
 * request with its entity rows in the lake (`source.key`; `source.path` is the asking process's
 * copy, for the parts it runs itself) or in a pinned dataset snapshot, and
 * where feature rows come from (pinned snapshots; absent: the views' offline rows).
 */
export interface JoinPlan {
  registryVersion: number;
  /** The training set it builds, in messages (a retrieval's plan names its registry version only). */
  name: string;
  request: HistoricalRequest;
  snapshots?: PinnedSource[];
  withMatchTimestamps: boolean;
  /** Rebuilding a training set saved before results said UTC (HistoricalQuery.naiveTimestamps). */
  naiveTimestamps?: boolean;
}

interface PartInput {
  plan: JoinPlan;
  index: number;
  count: number;
}

/** A part's result: a Parquet file here (`path`), or in the lake's scratch (`key`) when it ran elsewhere. */
interface PartOutput {
  rows: number;
  path?: string;
  key?: string;
}

/**
 * A point-in-time join split into parts by a hash of the entity key (join-parts.ts), each a call
 * that any worker runs — the one that asked takes back those no other worker has started —
 * merged back in input order. With views in the lake's hash buckets, a part reads only its
 * buckets' files: N workers share one training set as they share one materialization.
 */
@Injectable()
export class PartitionedJoin {
  private readonly logger = new Logger(PartitionedJoin.name);

  constructor(
    private readonly config: AppConfig,
    private readonly queries: HistoricalQueries,
    private readonly offline: OfflineStore,
    private readonly calls: ComputeCalls,
    private readonly scratch: ScratchObjects,
    private readonly temp: TempFiles,
  ) {
    calls.register('historical.part', (input: PartInput, context) => this.part(input, context));
  }

  /**
   * How many parts a join of these entity rows is worth splitting into here: one per connected
   * worker, at most `queue.join_parts`, when the rows are a dataset or a file in the lake (which
   * every part reads alike, wherever it runs); one otherwise.
   */
  async partsFor(request: HistoricalRequest): Promise<number> {
    const source = request.source;
    const shared = source.kind === 'dataset' || (source.kind === 'file' && source.key !== undefined);
    return shared ? this.calls.partsWorthRunning(this.config.queue.joinParts) : 1;
  }

  /** The join of `plan` in `count` parts, merged into one Parquet file at `path`. */
  async toParquet(plan: JoinPlan, count: number, path: string, control: QueryControl): Promise<ResultFile> {
    const inputs: PartInput[] = Array.from({ length: count }, (_, index) => ({ plan, index, count }));
    const outputs = await this.calls.runParts<PartInput, PartOutput>('historical.part', inputs, control.signal);
    const fetched: string[] = [];
    try {
      for (const output of outputs) fetched.push(output.path ?? (await this.scratch.fetch(output.key!, '.parquet')));
      return await this.offline.mergeParts(fetched, path, control);
    } finally {
      await this.temp.remove(...fetched);
      await Promise.all(outputs.filter((o) => o.key).map((o) => this.scratch.remove(o.key!)));
    }
  }

  private async part({ plan, index, count }: PartInput, context: CallContext): Promise<PartOutput> {
    return withWorkControl(this.queries.budget(context.signal), async (stop) => {
      const source = plan.request.source;
      // A part taken back runs beside the asker, whose `path` holds the rows; elsewhere they come from the lake.
      const spineFile = context.remote && source.kind === 'file' && source.key ? await this.scratch.fetch(source.key, `.${source.format}`) : null;
      const out = await this.temp.path('.parquet');
      try {
        const query = await this.query(plan, spineFile);
        query.part = { index, count, keys: query.selection.views[0].view.joinKeys };
        query.naiveTimestamps = plan.naiveTimestamps;
        const started = Date.now();
        const result = await this.offline.historicalToFile(query, 'parquet', out, { withMatchTimestamps: plan.withMatchTimestamps, ...this.queries.control(stop) });
        this.logger.log(`join part ${index + 1}/${count} of ${plan.name}: ${result.rows} rows in ${Date.now() - started} ms${context.remote ? '' : ' (taken back)'}`);
        if (!context.remote) return { rows: result.rows, path: out };
        const key = await this.scratch.put('results', out, '.parquet');
        await this.temp.remove(out);
        return { rows: result.rows, key };
      } catch (error) {
        await this.temp.remove(out);
        throw error;
      } finally {
        if (spineFile) await this.temp.remove(spineFile);
      }
    });
  }

  private async query(plan: JoinPlan, spineFile: string | null): Promise<HistoricalQuery> {
    const catalog = await this.queries.catalogAt(plan.registryVersion, plan.name);
    const features = plan.snapshots ? await this.queries.pinnedFeatures(catalog, plan.snapshots) : undefined;
    const source = plan.request.source;
    const request = spineFile && source.kind === 'file' ? { ...plan.request, source: { ...source, path: spineFile } } : plan.request;
    return (await this.queries.build(request, catalog, features)).query;
  }
}
