import { Injectable, Logger } from '@nestjs/common';
import { DomainError, JobCancelledError, MaterializationPartialError } from '../common/errors';
import { stopReason } from '../common/work-control';
import { stoppedError } from '../duckdb/progress';
import { FeatureCatalog, ResolvedView } from '../core/catalog';
import { DatasetService } from '../lake/dataset.service';
import { DatasetSnapshot } from '../lake/dataset-manifest';
import { OfflineStore, RunControl } from '../offline-store/offline-store';
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
   * shutting down) ends the whole job at once.
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
        if (signal.aborted || error instanceof JobCancelledError) {
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

  private async runView(job: Job, run: ViewRun, view: ResolvedView, project: string, signal: AbortSignal, progress: (within: number) => void): Promise<void> {
    if (job.request.kind === 'online-restore') {
      if (view.def.online) await this.writeOnline(job, run, view, project, signal, progress);
      return;
    }
    const snapshot = await this.datasets.snapshot(view.dataset.name);
    if (!snapshot) {
      run.state = 'skipped';
      run.note = 'the source dataset has no data yet';
      return;
    }
    run.sourceSnapshot = snapshot.snapshotId;
    run.sourceRows = snapshot.rowCount;
    const offlineStarted = Date.now();
    const control: RunControl = {
      signal,
      onProgress: ({ fraction, rowsProcessed }) => {
        const seconds = (Date.now() - offlineStarted) / 1000;
        job.progress.rowsPerSecond = seconds > 0 ? rowsProcessed / seconds : null;
        job.progress.etaSeconds = fraction && fraction > 0 ? (seconds * (1 - fraction)) / fraction : null;
        progress(0.5 * (fraction ?? 0));
      },
    };
    if (job.request.kind === 'materialize') {
      const files = await this.datasets.localFiles(snapshot);
      run.newRows = snapshot.rowCount;
      run.rowsOffline = (await this.offline.materializeWindow(view, { dataset: view.dataset, files }, run.start!, run.end, control)).rowsWritten;
    } else {
      await this.incremental(run, view, snapshot, control);
    }
    progress(0.5);
    if (view.def.online) await this.writeOnline(job, run, view, project, signal, progress);
  }

  /**
   * The online phase, guarded by the view's epoch marker. A store whose marker is missing or
   * older than the offline store's record lost data (Redis restarted empty, say): the whole view
   * is rewritten from the offline table, and a metric and a log line say so. The marker is
   * checked again after writing, so a loss during this run is caught too; then the next epoch
   * is written online first and recorded offline second (a crash between leaves the online
   * marker ahead, which reads as intact).
   */
  private async writeOnline(job: Job, run: ViewRun, view: ResolvedView, project: string, signal: AbortSignal, progress: (within: number) => void): Promise<void> {
    const expected = (await this.offline.viewState(view)).onlineEpoch;
    const stored = await this.online.readEpoch(project, view);
    if (expected !== null && (stored === null || stored < expected)) await this.restore(run, view, stored === null ? 'it has no marker for it' : `its marker is ${stored}, not ${expected}`);
    if (stored === null) await this.online.writeEpoch(project, view, expected ?? 0);
    await this.pushPending(job, run, view, project, signal, progress);
    if ((await this.online.readEpoch(project, view)) === null) {
      await this.restore(run, view, 'its marker disappeared while this run wrote');
      await this.online.writeEpoch(project, view, expected ?? 0);
      await this.pushPending(job, run, view, project, signal, progress);
    }
    const next = Math.max(expected ?? 0, stored ?? 0) + 1;
    await this.online.writeEpoch(project, view, next);
    await this.offline.recordOnlineEpoch(view, next);
  }

  private async restore(run: ViewRun, view: ResolvedView, why: string): Promise<void> {
    this.lossDetected.inc({ view: view.def.name });
    this.logger.warn(`the online store lost feature view ${view.def.name} (${why}): rewriting all its entities from the offline table`);
    await this.offline.markAllPending(view);
    run.note = `the online store had lost this view (${why}); every entity was written again from the offline table`;
  }

  private async incremental(run: ViewRun, view: ResolvedView, snapshot: DatasetSnapshot, control: RunControl): Promise<void> {
    const state = await this.offline.viewState(view);
    run.start = state.watermark;
    const unseen = snapshot.files.filter((f) => f.addedInSnapshot > (state.consumedSnapshot ?? 0));
    run.newRows = unseen.reduce((n, f) => n + f.rows, 0);
    if (state.consumedSnapshot === snapshot.snapshotId && state.watermark !== null && state.watermark >= run.end) {
      run.note = 'up to date: no new data in the lake and nothing newer than the last run to add';
      return;
    }
    const newFiles = await Promise.all(unseen.map((f) => this.datasets.localPath(f.key)));
    const files = await this.datasets.localFiles(snapshot);
    const source = { dataset: view.dataset, files, newFiles, snapshotId: snapshot.snapshotId };
    run.rowsOffline = (await this.offline.materializeIncremental(view, source, run.end, view.def.incremental, control)).rowsWritten;
  }

  /**
   * Writes the newest row of every pending entity online. Up to WRITES_IN_FLIGHT batches are
   * written while the next is read from DuckDB (memory stays bounded by that many batches);
   * each batch is acknowledged only once it and every batch before it are written.
   */
  private async pushPending(job: Job, run: ViewRun, view: ResolvedView, project: string, signal: AbortSignal, progress: (within: number) => void): Promise<void> {
    run.onlineTotal = (await this.offline.viewState(view)).pendingOnline;
    job.progress.phase = 'online';
    const started = Date.now();
    const inFlight = new Set<Promise<void>>();
    let acknowledged: Promise<void> = Promise.resolve();
    for await (const batch of this.offline.pendingOnline(view, ONLINE_BATCH)) {
      if (signal.aborted) throw stopReason(signal) ?? new JobCancelledError('cancelled; the entities not yet written online stay pending for the next run');
      const written: Promise<void> = this.online.write(project, view, batch.records).then(() => {
        run.rowsOnline += batch.records.length;
        const seconds = (Date.now() - started) / 1000;
        job.progress.rowsPerSecond = seconds > 0 ? run.rowsOnline / seconds : null;
        job.progress.etaSeconds = job.progress.rowsPerSecond ? (run.onlineTotal - run.rowsOnline) / job.progress.rowsPerSecond : null;
        progress(0.5 + 0.5 * (run.onlineTotal ? Math.min(1, run.rowsOnline / run.onlineTotal) : 1));
      });
      acknowledged = Promise.all([acknowledged, written]).then(() => batch.ack());
      acknowledged.catch(() => undefined); // awaited below; this only keeps a failure from going unhandled meanwhile
      inFlight.add(written);
      void written.finally(() => inFlight.delete(written)).catch(() => undefined);
      if (inFlight.size >= WRITES_IN_FLIGHT) await Promise.race(inFlight);
    }
    await acknowledged;
  }
}

function describeError(error: unknown): { code: string; message: string } {
  return error instanceof DomainError ? { code: error.code, message: error.message } : { code: 'INTERNAL_ERROR', message: String(error) };
}
