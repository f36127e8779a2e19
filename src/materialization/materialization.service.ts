import { Injectable, Logger } from '@nestjs/common';
import { JobCancelledError, LakeUnavailableError } from '../common/errors';
import { stopReason } from '../common/work-control';
import { stoppedError } from '../duckdb/progress';
import { ResolvedView } from '../core/catalog';
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
 * The steps of materializing a feature view, which a job's tasks run on any worker: prepare
 * (the source snapshot, the online store's marker checked), then per range of buckets the
 * offline phase (rows recomputed from the lake and committed) and the online phase (the newest
 * row of every changed entity written online, in bounded batches), then finish (the next
 * epoch). Each step stops at its next safe point when its signal aborts; either way the stores
 * stay consistent (see OfflineStore's invariant).
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
   * Before a view's buckets run: the source snapshot they all read, and the online store's
   * marker checked — a store whose marker is missing or older than the offline record lost
   * data (Redis restarted empty, say), so every entity of the view is marked pending and its
   * whole online table is written again, and a metric and a log line say so. Null when the
   * source has no data yet (the view is skipped).
   */
  async prepareView(job: Job, run: ViewRun, view: ResolvedView, project: string): Promise<ViewPlan | null> {
    const state = await this.offline.viewState(view);
    const plan: ViewPlan = { buckets: state.buckets, source: null, request: requestOf(job, run, view), expectedEpoch: state.onlineEpoch, storedEpoch: null };
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
    // Offline rows that were never written online (the view was offline-only until now): every entity goes online.
    if (expected === null && state.hasRows) await this.offline.markAllPending(view);
    // Written before any record, so that a loss while this run writes shows at its end.
    if (stored === null) await this.online.writeEpoch(project, view, expected ?? 0);
    return plan;
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

  /** A view's source at a snapshot a plan chose, as the offline store reads it (on whichever worker runs the task). */
  async sourceAt(view: ResolvedView, snapshotId: number): Promise<SourceSnapshot> {
    // The plan's snapshot may have expired since (retention); its files stay for GC's grace period.
    const snapshot = await this.datasets.snapshot(view.dataset.name, snapshotId, { includeExpired: true });
    if (!snapshot) throw new LakeUnavailableError(`snapshot ${snapshotId} of dataset ${view.dataset.name} is not in the lake`, { dataset: view.dataset.name, snapshot: snapshotId });
    return this.sourceOf(view, snapshot);
  }

  /** The snapshot's files as the offline store reads them: local paths (a cache for S3) with their manifest entries. */
  private async sourceOf(view: ResolvedView, snapshot: DatasetSnapshot): Promise<SourceSnapshot> {
    const paths = await this.datasets.localFiles(snapshot);
    const files = snapshot.files.map((f, i) => ({
      path: paths[i],
      rows: f.rows,
      addedInSnapshot: f.addedInSnapshot,
      ...(f.firstAddedInSnapshot === undefined ? {} : { firstAddedInSnapshot: f.firstAddedInSnapshot }),
      minTs: f.minTimestamp === null ? null : parseTimestamp(f.minTimestamp),
      maxTs: f.maxTimestamp === null ? null : parseTimestamp(f.maxTimestamp),
    }));
    return { dataset: view.dataset, snapshotId: snapshot.snapshotId, files, lastRewrite: snapshot.lastRewrite ?? null };
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

/** Buckets 0…count−1 split into `ranges` contiguous ranges of near-equal size. */
export function bucketRanges(count: number, ranges: number): number[][] {
  const n = Math.max(1, Math.min(count, ranges));
  return Array.from({ length: n }, (_, i) => {
    const from = Math.floor((i * count) / n);
    const to = Math.floor(((i + 1) * count) / n);
    return Array.from({ length: to - from }, (_, k) => from + k);
  });
}

export const UP_TO_DATE = 'up to date: no new data in the lake and nothing newer than the last run to add';

/** What a view's buckets share in one job: the source they read, what they recompute, the online epochs. */
export interface ViewPlan {
  buckets: number;
  /** null for an online-restore (no lake data is read). */
  source: SourceSnapshot | null;
  request: BucketRequest;
  expectedEpoch: number | null;
  storedEpoch: number | null;
}

export interface BucketOutcome {
  rowsOffline: number;
  rowsOnline: number;
  newRows: number;
  upToDate: boolean;
}

function requestOf(job: Job, run: ViewRun, view: ResolvedView): BucketRequest {
  if (job.request.kind === 'materialize') return { kind: 'window', start: run.start!, end: run.end, jobId: job.id };
  return { kind: 'incremental', end: run.end, mode: view.def.incremental, jobId: job.id };
}
