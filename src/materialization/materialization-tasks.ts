import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { hostname } from 'node:os';
import { errorRecord, ErrorRecord, FeatureViewChangedError, JobCancelledError, ShuttingDownError } from '../common/errors';
import { workControl } from '../common/work-control';
import { AppConfig } from '../config/app-config';
import { FeatureCatalog } from '../core/catalog';
import { FinalTaskError, JobQueue, Task, TaskContext, TaskHandler, taskKey, TaskOutcome, TRANSIENT_CODES } from '../queue/job-queue';
import { QUEUE_OPTIONS } from '../queue/queue.module';
import type { QueueOptions } from '../queue/queue.module';
import { SourceSnapshot } from '../offline-store/offline-store';
import { RegistryService } from '../registry/registry.service';
import { ACTIVE_STATES, Job, JobState, StoredPlan, ViewRun } from './job';
import { JobMetrics } from './job-metrics';
import { JobStore } from './job.store';
import { BucketOutcome, bucketRanges, MaterializationService, UP_TO_DATE, ViewPlan } from './materialization.service';
import { RunningJobs } from './running-jobs';

/** How often a running task reports its progress at most. */
const POLL_MS = 500;

/**
 * Runs a materialization job's tasks, on whichever process takes them off the queue:
 *  - plan: marks the job running, prepares each view (source snapshot, online marker) and
 *    fans out one task per range of its buckets;
 *  - range: recomputes the range's buckets into the lake, then writes their entities online;
 *  - finish: adds up the ranges' outcomes per view, finishes each view (its next epoch), and
 *    writes the job's final record, releases its views and announces the end.
 * The job record in the lake carries the plan, so every task on every worker reads the same.
 */
@Injectable()
export class MaterializationTasks implements TaskHandler, OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(MaterializationTasks.name);
  private readonly active = new Set<{ controller: AbortController; done: Promise<unknown> }>();

  constructor(
    private readonly config: AppConfig,
    private readonly registry: RegistryService,
    private readonly executor: MaterializationService,
    private readonly store: JobStore,
    private readonly queue: JobQueue,
    private readonly running: RunningJobs,
    private readonly metrics: JobMetrics,
    @Inject(QUEUE_OPTIONS) private readonly options: QueueOptions,
  ) {
  }

  async onApplicationBootstrap(): Promise<void> {
    if (this.options.worker || this.queue.mode === 'local') await this.queue.consume(this, this.config.queue.concurrency);
  }

  /** Stopping: running tasks are interrupted (on BullMQ they run again on another worker) and awaited, so no statement outlives the stores. */
  async onApplicationShutdown(): Promise<void> {
    for (const task of this.active) task.controller.abort(new ShuttingDownError('the worker is shutting down; the task runs again'));
    await Promise.allSettled([...this.active].map((t) => t.done));
  }

  async run(task: Task, context: TaskContext): Promise<Record<string, unknown>> {
    const controller = new AbortController();
    const work = this.dispatch(task, context, controller.signal);
    const entry = { controller, done: work.catch(() => undefined) };
    this.active.add(entry);
    try {
      return await work;
    } finally {
      this.active.delete(entry);
    }
  }

  private async dispatch(task: Task, context: TaskContext, stop: AbortSignal): Promise<Record<string, unknown>> {
    const job = await this.store.get(task.jobId);
    if (!job || !ACTIVE_STATES.includes(job.state)) return { skipped: 'the job has finished' };
    if (task.kind === 'plan') return this.plan(job, context);
    if (task.kind === 'range') return { ...(await this.range(job, task.view, task.buckets, context, stop)) };
    return this.finish(job, await context.outcomes(), context);
  }

  /** Plans every view and fans out its ranges; a failure of the plan itself ends the job (after its last try). */
  private async plan(job: Job, context: TaskContext): Promise<Record<string, unknown>> {
    try {
      if (await this.queue.isCancelled(job.id)) return await this.end(job, 'cancelled', { code: 'JOB_CANCELLED', status: 409, message: 'cancelled before it started' });
      job.state = 'running';
      job.startedAt ??= new Date().toISOString();
      job.owner = { pid: this.queue.keeperPid, host: hostname(), queue: this.queue.mode };
      const catalog = await this.registry.catalog();
      const tasks: Task[] = [];
      for (const run of job.views) {
        const plan = await this.planView(job, run, catalog);
        for (const buckets of plan?.ranges ?? []) tasks.push({ kind: 'range', jobId: job.id, view: run.view, buckets });
      }
      await this.store.save(job);
      await this.queue.fanOut(tasks, { kind: 'finish', jobId: job.id });
      return { tasks: tasks.length };
    } catch (error) {
      if (isTransient(error) && !context.finalAttempt) throw error;
      return this.end(job, 'failed', errorRecord(error));
    }
  }

  private async planView(job: Job, run: ViewRun, catalog: FeatureCatalog): Promise<StoredPlan | null> {
    try {
      const view = catalog.view(run.view);
      const plan = await this.executor.prepareView(job, run, view, catalog.project);
      if (!plan) return null;
      run.state = 'running';
      const ranges = bucketRanges(plan.buckets, this.config.queue.rangesPerView);
      run.plan = { fingerprint: view.fingerprint, buckets: plan.buckets, snapshotId: plan.source?.snapshotId ?? null, request: plan.request, expectedEpoch: plan.expectedEpoch, storedEpoch: plan.storedEpoch, ranges };
      return run.plan;
    } catch (error) {
      if (isTransient(error)) throw error;
      run.state = 'failed';
      run.error = errorRecord(error);
      this.logger.warn(`${run.view} failed while planning; the job's other views still run: ${run.error.code}: ${run.error.message}`);
      return null;
    }
  }

  /** One range of a view's buckets: both phases, stopped by a cancel, the job's time budget or shutdown. */
  private async range(job: Job, name: string, buckets: number[], context: TaskContext, stop: AbortSignal): Promise<BucketOutcome> {
    const run = job.views.find((v) => v.view === name);
    if (!run?.plan) throw new FinalTaskError({ code: 'INTERNAL_ERROR', message: `job ${job.id} has no plan for feature view ${name}` });
    const catalog = await this.registry.catalog();
    const view = catalog.view(name);
    if (view.fingerprint !== run.plan.fingerprint) throw new FeatureViewChangedError(`feature view ${name} was applied anew while job ${job.id} ran; run the job again`, { view: name, job_id: job.id });
    const source = run.plan.snapshotId === null ? null : await this.executor.sourceAt(view, run.plan.snapshotId);
    const plan = viewPlan(run.plan, source);
    const key = taskKey({ kind: 'range', jobId: job.id, view: name, buckets });
    return this.controlled(job, [context.signal, stop], async (signal) => {
      let reported = 0;
      const report = (fraction: number) => {
        if (Date.now() - reported < POLL_MS && fraction < 1) return;
        reported = Date.now();
        void this.queue.reportProgress(job.id, key, fraction).catch(() => undefined);
      };
      const outcome = await this.executor.computeBuckets(view, plan, buckets, { signal, onProgress: ({ fraction }) => report(0.5 * (fraction ?? 0)) });
      report(0.5);
      outcome.rowsOnline = await this.executor.writeBuckets(view, buckets, catalog.project, signal);
      report(1);
      return outcome;
    });
  }

  /** Adds up each view's ranges, finishes the views whose ranges all succeeded, and ends the job. */
  private async finish(job: Job, outcomes: TaskOutcome[], context: TaskContext): Promise<Record<string, unknown>> {
    try {
      const catalog = await this.registry.catalog();
      for (const run of job.views.filter((v) => v.plan && v.state === 'running')) await this.finishView(job, run, catalog, outcomes.filter((o) => o.task?.kind === 'range' && o.task.view === run.view));
      return await this.end(job, ...finalState(job));
    } catch (error) {
      if (isTransient(error) && !context.finalAttempt) throw error;
      return this.end(job, 'failed', errorRecord(error));
    }
  }

  private async finishView(job: Job, run: ViewRun, catalog: FeatureCatalog, outcomes: TaskOutcome[]): Promise<void> {
    const failed = outcomes.find((o) => o.error);
    run.durationMs = Date.now() - Date.parse(job.startedAt ?? job.createdAt);
    if (failed?.error) {
      run.state = failed.error.code === 'JOB_CANCELLED' ? 'cancelled' : 'failed';
      run.error = failed.error;
    }
    let upToDate = true;
    for (const { result } of outcomes) {
      const outcome = (result ?? {}) as Partial<BucketOutcome>;
      run.rowsOffline += outcome.rowsOffline ?? 0;
      run.rowsOnline += outcome.rowsOnline ?? 0;
      run.newRows = Math.max(run.newRows, outcome.newRows ?? 0);
      if (outcome.upToDate === false) upToDate = false;
    }
    if (failed) return;
    try {
      const view = catalog.view(run.view);
      // Finishing reads no lake data: the source is not resolved (on S3 that would fetch its files).
      await this.executor.finishView(run, view, viewPlan(run.plan!, null), catalog.project);
      if (run.rowsOffline === 0 && run.rowsOnline === 0 && upToDate) run.note ??= UP_TO_DATE;
      run.state = 'done';
    } catch (error) {
      if (isTransient(error)) throw error;
      run.state = 'failed';
      run.error = errorRecord(error);
    }
    this.logger.log(`${run.view}: ${run.state}, ${run.rowsOffline} offline rows, ${run.rowsOnline} online rows`);
  }

  /** The job's final record: saved, its views released, its end announced to whoever waits. */
  private async end(job: Job, state: JobState, error: Job['error']): Promise<Record<string, unknown>> {
    job.state = state;
    job.error = error;
    job.finishedAt = new Date().toISOString();
    job.durationMs = Date.parse(job.finishedAt) - Date.parse(job.startedAt ?? job.createdAt);
    job.progress = { view: null, phase: null, fraction: 1, rowsPerSecond: null, etaSeconds: null };
    for (const view of job.views) if (view.state === 'pending' || view.state === 'running') view.state = state === 'cancelled' ? 'cancelled' : 'failed';
    // A forked worker has no /metrics: the server that keeps its queue records the job when it hears of its end.
    if (this.queue.keeperPid === process.pid) this.metrics.record(job);
    await this.store.save(job);
    this.running.delete(job.id);
    await this.queue.unlockViews(job.id, job.request.views).catch((e: unknown) => this.logger.warn(`could not release the views of job ${job.id}: ${String(e)}`));
    await this.queue.announceFinished(job.id).catch((e: unknown) => this.logger.warn(`could not announce the end of job ${job.id}: ${String(e)}`));
    return { state };
  }

  /**
   * Runs work under the job's budget: limits.job_timeout_seconds counted from the job's start,
   * the cancel flag (polled), shutdown. A cancel ends it with JOB_CANCELLED.
   */
  private async controlled<T>(job: Job, signals: AbortSignal[], work: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const cancel = new AbortController();
    const unwatch = this.queue.onCancel(job.id, () => cancel.abort(new JobCancelledError(`job ${job.id} was cancelled; entities not yet written online stay pending for the next run`)));
    const spent = (Date.now() - Date.parse(job.startedAt ?? job.createdAt)) / 1000;
    const control = workControl({ signals: [...signals, cancel.signal], timeout: { seconds: Math.max(0.001, this.config.limits.jobTimeoutSeconds - spent), field: 'limits.job_timeout_seconds' } });
    try {
      return await work(control.signal);
    } catch (error) {
      throw control.signal.aborted && control.signal.reason ? control.signal.reason : error;
    } finally {
      unwatch();
      control.dispose();
    }
  }
}

/** A stored plan as the executor takes it, with the source this worker resolved (null when the step reads no lake data). */
function viewPlan(stored: StoredPlan, source: SourceSnapshot | null): ViewPlan {
  return { buckets: stored.buckets, source, request: stored.request, expectedEpoch: stored.expectedEpoch, storedEpoch: stored.storedEpoch };
}

function isTransient(error: unknown): boolean {
  return TRANSIENT_CODES.includes(errorRecord(error).code);
}

/**
 * The job's state from its views': cancelled when a view was; failed with the view's own error
 * when every view failed (or one hit a store another process holds); partial (some failed,
 * each with its error; MATERIALIZATION_PARTIAL) or succeeded otherwise.
 */
export function finalState(job: Job): [JobState, ErrorRecord | null] {
  const cancelled = job.views.find((v) => v.state === 'cancelled');
  if (cancelled) return ['cancelled', { status: 409, ...(cancelled.error ?? { code: 'JOB_CANCELLED', message: 'cancelled' }) }];
  const failed = job.views.filter((v) => v.state === 'failed');
  const locked = failed.find((v) => v.error?.code === 'STORE_LOCKED');
  if (locked) return ['failed', locked.error!];
  if (failed.length === 0) return ['succeeded', null];
  if (failed.length === job.views.length) return ['failed', failed[0].error ?? { code: 'INTERNAL_ERROR', message: 'failed' }];
  const views = failed.map((v) => v.view);
  return [
    'partial',
    {
      code: 'MATERIALIZATION_PARTIAL',
      status: 422,
      message: `${views.length} of ${job.views.length} feature views failed (${views.join(', ')}); the others were materialized`,
      details: { failed_views: Object.fromEntries(failed.map((v) => [v.view, v.error])) },
    },
  ];
}
