import { Injectable, Logger } from '@nestjs/common';
import { DomainError, JobCancelledError, MaterializationPartialError, StoreLockedError } from '../common/errors';
import { stopReason } from '../common/work-control';
import { stoppedError } from '../duckdb/progress';
import { FeatureCatalog, ResolvedView } from '../core/catalog';
import { DatasetService } from '../lake/dataset.service';
import { DatasetSnapshot } from '../lake/dataset-manifest';
import { BucketRequest, OfflineStore, RunControl, SourceSnapshot } from '../offline-store/offline-store';
import { parseTimestamp } from '../core/timestamp';
import { OnlineStore } from '../online-store/online-store';
import { Job, ViewRun } from './job';
import { Metrics } from '../metrics/metrics';

const ONLINE_BATCH = 5000;
const WRITES_IN_FLIGHT = 3;

/**
 * Does the work of one materialization job, view by view: recompute the view's rows from the
 * lake into its offline table, then write the newest row of every changed entity online, in
 * bounded batches. Reports progress through `onUpdate` and stops at the next safe point when
 * `signal` aborts; either way the stores stay consistent (see OfflineStore's invariant).
 */
@Injectable()
export class MaterializationService {
  private readonly logger = new Logger(MaterializationService.name);

  private readonly lossDetected;

  constructor(
    private readonly datasets: DatasetService,
    private readonly offline: OfflineStore,
    private readonly online: OnlineStore,
    metrics: Metrics,
  ) {
    this.lossDetected = metrics.counter('featurelake_online_store_loss_detected_total', 'Times a view was found missing from the online store (marker gone or older) and rewritten from the offline table', ['view']);
  }

  /**
   * Runs the job's views in turn. A view that fails is marked failed with its error and the
   * others still run; then the job fails with MATERIALIZATION_PARTIAL (some succeeded) or the
   * view's own error (all failed). Work stopped by `signal` (cancelled, over its time budget,
   * shutting down), or a store another process holds, ends the whole job at once.
   */
  async execute(job: Job, catalog: FeatureCatalog, signal: AbortSignal, onUpdate: () => void): Promise<void> {
    const failures: { view: string; error: unknown }[] = [];
    for (const [index, run] of job.views.entries()) {
      if (signal.aborted) throw stoppedError(signal);
      const view = catalog.view(run.view);
      const started = Date.now();
      run.state = 'running';
      job.progress = { view: view.def.name, phase: 'offline', fraction: index / job.views.length, rowsPerSecond: null, etaSeconds: null };
      onUpdate();
      try {
        await this.runView(job, run, view, catalog.project, signal, (within) => {
          job.progress.fraction = (index + within) / job.views.length;
          onUpdate();
        });
        run.state = run.state === 'running' ? 'done' : run.state;
      } catch (error) {
        if (signal.aborted || error instanceof JobCancelledError || error instanceof StoreLockedError) {
          run.state = error instanceof JobCancelledError ? 'cancelled' : 'failed';
          throw error;
        }
        run.state = 'failed';
        run.error = describeError(error);
        failures.push({ view: run.view, error });
        this.logger.warn(`${view.def.name} failed; the job's other views still run: ${run.error.code}: ${run.error.message}`);
      } finally {
        run.durationMs = Date.now() - started;
        this.logger.log(`${view.def.name}: ${run.state}, ${run.rowsOffline} offline rows, ${run.rowsOnline} online rows in ${run.durationMs} ms`);
      }
    }
    job.progress = { view: null, phase: null, fraction: 1, rowsPerSecond: null, etaSeconds: null };
    if (failures.length === job.views.length) throw failures[0].error;
    if (failures.length > 0) {
      const views = failures.map((f) => f.view);
      throw new MaterializationPartialError(`${views.length} of ${job.views.length} feature views failed (${views.join(', ')}); the others were materialized`, {
        failed_views: Object.fromEntries(job.views.filter((v) => v.error).map((v) => [v.view, v.error])),
      });
    }
  }

  /**
   * The view's buckets in ranges, pipelined: while one range's entities are written online (JS
   * and the online store), the next range is computed (DuckDB's threads), so neither waits for
   * the other. At most two ranges are in progress; a failure waits for the other to settle.
   */
  private async runView(job: Job, run: ViewRun, view: ResolvedView, project: string, signal: AbortSignal, progress: (within: number) => void): Promise<void> {
    const plan = await this.prepareView(job, run, view, project);
    if (!plan) return;
    const ranges = bucketRanges(plan.buckets, Math.min(plan.buckets, IN_PROCESS_RANGES));
    const compute = (index: number) => {
      if (signal.aborted) throw stoppedError(signal);
      const control = this.control(job, signal, (f) => progress((index + f) / ranges.length));
      const started = this.computeBuckets(view, plan, ranges[index], control);
      started.catch(() => undefined); // awaited below; this only keeps a failure from going unhandled meanwhile
      return started;
    };
    let computing = compute(0);
    for (const [index, range] of ranges.entries()) {
      const outcome = await computing;
      if (index + 1 < ranges.length) computing = compute(index + 1);
      job.progress.phase = 'online';
      try {
        outcome.rowsOnline = await this.writeBuckets(view, range, project, signal);
      } catch (error) {
        await computing.catch(() => undefined);
        throw error;
      }
      addOutcome(run, outcome);
      progress((index + 1) / ranges.length);
    }
    if (run.rowsOffline === 0 && run.rowsOnline === 0 && plan.allUpToDate) run.note ??= UP_TO_DATE;
    await this.finishView(run, view, plan, project, signal);
  }

  /**
   * Before a view's buckets run: the source snapshot they all read, and the online store's
   * marker checked — a store whose marker is missing or older than the offline record lost
   * data (Redis restarted empty, say), so every entity of the view is marked pending and its
   * whole online table is written again, and a metric and a log line say so. Null when the
   * source has no data yet (the view is skipped).
   */
  async prepareView(job: Job, run: ViewRun, view: ResolvedView, project: string): Promise<ViewPlan | null> {
    const state = await this.offline.viewState(view);
    const plan: ViewPlan = { buckets: state.buckets, source: null, request: requestOf(job, run, view), expectedEpoch: state.onlineEpoch, storedEpoch: null, allUpToDate: true };
    if (job.request.kind !== 'online-restore') {
      const snapshot = await this.datasets.snapshot(view.dataset.name);
      if (!snapshot) {
        run.state = 'skipped';
        run.note = 'the source dataset has no data yet';
        return null;
      }
      run.sourceSnapshot = snapshot.snapshotId;
      run.sourceRows = snapshot.rowCount;
      if (job.request.kind === 'materialize-incremental') run.start = state.watermark;
      plan.source = await this.sourceOf(view, snapshot);
    }
    if (!view.def.online) return plan;
    plan.storedEpoch = await this.online.readEpoch(project, view);
    const { expectedEpoch: expected, storedEpoch: stored } = plan;
    if (expected !== null && (stored === null || stored < expected)) await this.restore(run, view, stored === null ? 'it has no marker for it' : `its marker is ${stored}, not ${expected}`);
    // Written before any record, so that a loss while this run writes shows at its end.
    if (stored === null) await this.online.writeEpoch(project, view, expected ?? 0);
    return plan;
  }

  /** A range of buckets: both phases, in order (what one task of a job does). */
  async runBuckets(view: ResolvedView, plan: ViewPlan, buckets: number[], project: string, control: RunControl): Promise<BucketOutcome> {
    const outcome = await this.computeBuckets(view, plan, buckets, control);
    outcome.rowsOnline = await this.writeBuckets(view, buckets, project, control.signal);
    return outcome;
  }

  /** The offline phase of a range: its buckets' rows recomputed in one pass over the source and committed to the lake (and marked pending online). */
  async computeBuckets(view: ResolvedView, plan: ViewPlan, buckets: number[], control: RunControl): Promise<BucketOutcome> {
    const outcome: BucketOutcome = { rowsOffline: 0, rowsOnline: 0, newRows: 0, upToDate: true };
    if (!plan.source) return outcome;
    const runs = await this.offline.materializeBuckets(view, buckets, plan.source, plan.request, control);
    for (const run of runs.values()) {
      outcome.rowsOffline += run.rowsWritten;
      outcome.newRows = Math.max(outcome.newRows, run.newRows);
      if (run.note === undefined) outcome.upToDate = false;
    }
    if (!outcome.upToDate) plan.allUpToDate = false;
    return outcome;
  }

  /** The online phase of a range: each bucket's pending entities written online, then the bucket compacted when due; the rows written. */
  async writeBuckets(view: ResolvedView, buckets: number[], project: string, signal?: AbortSignal): Promise<number> {
    let written = 0;
    for (const bucket of buckets) {
      if (signal?.aborted) throw stoppedError(signal);
      if (view.def.online) written += await this.pushPending(view, bucket, project, signal);
      await this.offline.compactBucket(view, bucket);
    }
    return written;
  }

  /**
   * After every bucket: the marker is read again, so that a loss while this run wrote is caught
   * (and the view written again); then the next epoch goes online first and offline second (a
   * crash between leaves the online marker ahead, which reads as intact).
   */
  async finishView(run: ViewRun, view: ResolvedView, plan: ViewPlan, project: string, signal?: AbortSignal): Promise<void> {
    if (!view.def.online) return;
    if ((await this.online.readEpoch(project, view)) === null) {
      await this.restore(run, view, 'its marker disappeared while this run wrote');
      await this.online.writeEpoch(project, view, plan.expectedEpoch ?? 0);
      for (let bucket = 0; bucket < plan.buckets; bucket++) run.rowsOnline += await this.pushPending(view, bucket, project, signal);
    }
    const next = Math.max(plan.expectedEpoch ?? 0, plan.storedEpoch ?? 0) + 1;
    await this.online.writeEpoch(project, view, next);
    await this.offline.recordOnlineEpoch(view, next);
  }

  private async restore(run: ViewRun, view: ResolvedView, why: string): Promise<void> {
    this.lossDetected.inc({ view: view.def.name });
    this.logger.warn(`the online store lost feature view ${view.def.name} (${why}): rewriting all its entities from the offline table`);
    await this.offline.markAllPending(view);
    run.note = `the online store had lost this view (${why}); every entity was written again from the offline table`;
  }

  /** The snapshot's files as the offline store reads them: local paths (a cache for S3) with their manifest entries. */
  private async sourceOf(view: ResolvedView, snapshot: DatasetSnapshot): Promise<SourceSnapshot> {
    const paths = await this.datasets.localFiles(snapshot);
    const files = snapshot.files.map((f, i) => ({
      path: paths[i],
      rows: f.rows,
      addedInSnapshot: f.addedInSnapshot,
      minTs: f.minTimestamp === null ? null : parseTimestamp(f.minTimestamp),
      maxTs: f.maxTimestamp === null ? null : parseTimestamp(f.maxTimestamp),
    }));
    return { dataset: view.dataset, snapshotId: snapshot.snapshotId, files };
  }

  /** Progress of a bucket's engine work (0…1 within the bucket), and the job's signal. */
  private control(job: Job, signal: AbortSignal, progress: (fraction: number) => void): RunControl {
    const started = Date.now();
    return {
      signal,
      onProgress: ({ fraction, rowsProcessed }) => {
        const seconds = (Date.now() - started) / 1000;
        job.progress.rowsPerSecond = seconds > 0 ? rowsProcessed / seconds : null;
        job.progress.etaSeconds = fraction && fraction > 0 ? (seconds * (1 - fraction)) / fraction : null;
        progress(0.5 * (fraction ?? 0));
      },
    };
  }

  /**
   * Writes the newest row of every pending entity of a bucket online. Up to WRITES_IN_FLIGHT
   * batches are written while the next is read from DuckDB (memory stays bounded by that many
   * batches); each batch is acknowledged only once it and every batch before it are written.
   */
  private async pushPending(view: ResolvedView, bucket: number, project: string, signal?: AbortSignal): Promise<number> {
    let written = 0;
    const inFlight = new Set<Promise<void>>();
    let acknowledged: Promise<void> = Promise.resolve();
    for await (const batch of this.offline.pendingOnline(view, bucket, ONLINE_BATCH)) {
      if (signal?.aborted) throw stopReason(signal) ?? new JobCancelledError('cancelled; the entities not yet written online stay pending for the next run');
      const write: Promise<void> = this.online.write(project, view, batch.records).then(() => void (written += batch.records.length));
      acknowledged = Promise.all([acknowledged, write]).then(() => batch.ack());
      acknowledged.catch(() => undefined); // awaited below; this only keeps a failure from going unhandled meanwhile
      inFlight.add(write);
      void write.finally(() => inFlight.delete(write)).catch(() => undefined);
      if (inFlight.size >= WRITES_IN_FLIGHT) await Promise.race(inFlight);
    }
    await acknowledged;
    return written;
  }
}

/** How many passes over the source a view's buckets take when one process runs them all. */
const IN_PROCESS_RANGES = 4;

/** Buckets 0…count−1 split into `ranges` contiguous ranges of near-equal size. */
export function bucketRanges(count: number, ranges: number): number[][] {
  const n = Math.max(1, Math.min(count, ranges));
  return Array.from({ length: n }, (_, i) => {
    const from = Math.floor((i * count) / n);
    const to = Math.floor(((i + 1) * count) / n);
    return Array.from({ length: to - from }, (_, k) => from + k);
  });
}

const UP_TO_DATE = 'up to date: no new data in the lake and nothing newer than the last run to add';

/** What a view's buckets share in one job: the source they read, what they recompute, the online epochs. */
export interface ViewPlan {
  buckets: number;
  /** null for an online-restore (no lake data is read). */
  source: SourceSnapshot | null;
  request: BucketRequest;
  expectedEpoch: number | null;
  storedEpoch: number | null;
  /** Every bucket found nothing to do (the run is "up to date"). */
  allUpToDate: boolean;
}

export interface BucketOutcome {
  rowsOffline: number;
  rowsOnline: number;
  newRows: number;
  upToDate: boolean;
}

function requestOf(job: Job, run: ViewRun, view: ResolvedView): BucketRequest {
  if (job.request.kind === 'materialize') return { kind: 'window', start: run.start!, end: run.end };
  return { kind: 'incremental', end: run.end, mode: view.def.incremental };
}

function addOutcome(run: ViewRun, outcome: BucketOutcome): void {
  run.rowsOffline += outcome.rowsOffline;
  run.rowsOnline += outcome.rowsOnline;
  run.newRows = Math.max(run.newRows, outcome.newRows);
}

function describeError(error: unknown): { code: string; message: string } {
  return error instanceof DomainError ? { code: error.code, message: error.message } : { code: 'INTERNAL_ERROR', message: String(error) };
}
