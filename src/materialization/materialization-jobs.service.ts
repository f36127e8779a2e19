import { Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { hostname } from 'node:os';
import {
  DomainError,
  FeatureViewNotFoundError,
  InvalidWindowError,
  JobCancelledError,
  JobFinishedError,
  JobNotFoundError,
  MaterializationInProgressError,
  MaterializationPartialError,
} from '../common/errors';
import { ShutdownSignal } from '../common/shutdown-signal';
import { workControl } from '../common/work-control';
import { AppConfig } from '../config/app-config';
import { FeatureCatalog } from '../core/catalog';
import { formatTimestamp } from '../core/timestamp';
import { Metrics } from '../metrics/metrics';
import { RegistryService } from '../registry/registry.service';
import { ACTIVE_STATES, Job, JobRequest, ViewRun } from './job';
import { JobStore } from './job.store';
import { newJobId } from './lake.job-store';
import { RunningJobs } from './running-jobs';
import { MaterializationService } from './materialization.service';

const SAVE_INTERVAL_MS = 1000;

interface Running {
  controller: AbortController;
  finished: Promise<Job>;
}

/**
 * Materialization jobs: a FIFO queue run one job at a time, state persisted to the JobStore
 * (throttled while running), cancellation, and the rule that two jobs never share a feature
 * view while either is queued or running.
 */
@Injectable()
export class MaterializationJobs implements OnApplicationShutdown {
  private readonly logger = new Logger(MaterializationJobs.name);
  private readonly active = new Map<string, Job>();
  private readonly queue: string[] = [];
  private readonly done = new Map<string, { promise: Promise<Job>; resolve: (job: Job) => void }>();
  private readonly errors = new Map<string, unknown>();
  /** Saves of one job run one after another, so a throttled progress save never lands after the final one. */
  private readonly saves = new Map<string, Promise<void>>();
  private running?: Running & { id: string };

  private readonly jobDuration;
  private readonly rowsWritten;

  constructor(
    private readonly config: AppConfig,
    private readonly registry: RegistryService,
    private readonly executor: MaterializationService,
    private readonly store: JobStore,
    private readonly shutdown: ShutdownSignal,
    metrics: Metrics,
    private readonly running_: RunningJobs = new RunningJobs(),
  ) {
    this.jobDuration = metrics.histogram('featurelake_job_duration_seconds', 'Materialization jobs by kind and final state', ['kind', 'state']);
    this.rowsWritten = metrics.counter('featurelake_job_rows_written_total', 'Rows materialization jobs wrote, by view and store', ['view', 'store']);
  }

  /** Validates and queues a job; 409 when a queued or running job already covers one of its views. */
  async submit(request: Omit<JobRequest, 'views'> & { views?: string[] }): Promise<Job> {
    const catalog = await this.registry.catalog();
    const views = selectViews(catalog, request.views);
    if (request.start !== undefined && request.start > request.end) {
      throw new InvalidWindowError(`start ${formatTimestamp(request.start)} is after end ${formatTimestamp(request.end)}`, { field: 'start_ts' });
    }
    this.assertNoOverlap(views);
    const job = newJob({ ...request, views });
    this.running_.add(job.id);
    await this.persist(job);
    this.active.set(job.id, job);
    let resolve!: (job: Job) => void;
    this.done.set(job.id, { promise: new Promise((r) => (resolve = r)), resolve });
    this.queue.push(job.id);
    const submitted = structuredClone(job); // as it was queued; the runner mutates `job` from here on
    void this.pump();
    return submitted;
  }

  /** Resolves with the finished job; rejects with the job's own error when it failed or was cancelled. */
  async wait(id: string): Promise<Job> {
    const entry = this.done.get(id);
    const job = entry ? await entry.promise : await this.get(id);
    if (job.state === 'failed' || job.state === 'cancelled' || job.state === 'partial') throw this.errors.get(id) ?? new JobCancelledError(job.error?.message ?? 'cancelled');
    return job;
  }

  async get(id: string): Promise<Job> {
    const job = this.active.get(id) ?? (await this.store.get(id));
    if (!job) throw new JobNotFoundError(`job ${JSON.stringify(id)} does not exist`, { job_id: id });
    return job;
  }

  async list(limit = 100): Promise<Job[]> {
    return this.store.list(limit);
  }

  /** Cancels a queued job at once, or a running one at its next safe point; 409 when it has finished. */
  async cancel(id: string): Promise<Job> {
    const job = await this.get(id);
    if (!ACTIVE_STATES.includes(job.state)) throw new JobFinishedError(`job ${id} has already ${job.state}`, { job_id: id, state: job.state });
    if (job.state === 'queued') {
      this.queue.splice(this.queue.indexOf(id), 1);
      this.errors.set(id, new JobCancelledError(`job ${id} was cancelled before it started`));
      await this.finish(job, 'cancelled', { code: 'JOB_CANCELLED', message: 'cancelled before it started' });
      return job;
    }
    this.running?.controller.abort();
    return (await this.running?.finished) ?? job;
  }

  async onApplicationShutdown(): Promise<void> {
    this.running?.controller.abort();
    await this.running?.finished.catch(() => undefined);
  }

  /** Queues a save of the job as it is when the save runs; resolves when that save is done. */
  private persist(job: Job): Promise<void> {
    const previous = this.saves.get(job.id) ?? Promise.resolve();
    const next = previous.catch(() => undefined).then(() => this.store.save(job));
    this.saves.set(job.id, next);
    return next;
  }

  private assertNoOverlap(views: string[]): void {
    for (const job of this.active.values()) {
      const shared = job.request.views.find((v) => views.includes(v));
      if (shared) {
        throw new MaterializationInProgressError(`feature view ${shared} is already being materialized by job ${job.id} (${job.state})`, {
          job_id: job.id,
          view: shared,
        });
      }
    }
  }

  private async pump(): Promise<void> {
    if (this.running || this.queue.length === 0) return;
    const id = this.queue.shift() as string;
    const job = this.active.get(id) as Job;
    const controller = new AbortController();
    // Cancelled, over limits.job_timeout_seconds, or the server stopping: the job's statements are interrupted.
    const control = workControl({
      signals: [controller.signal, this.shutdown.signal],
      timeout: { seconds: this.config.limits.jobTimeoutSeconds, field: 'limits.job_timeout_seconds' },
    });
    const finished = this.run(job, control.signal);
    this.running = { id, controller, finished };
    await finished;
    control.dispose();
    this.running = undefined;
    void this.pump();
  }

  private async run(job: Job, signal: AbortSignal): Promise<Job> {
    job.state = 'running';
    job.startedAt = new Date().toISOString();
    let lastSave = 0;
    const save = () => {
      if (Date.now() - lastSave < SAVE_INTERVAL_MS) return;
      lastSave = Date.now();
      void this.persist(job).catch((error: unknown) => this.logger.warn(`could not save job ${job.id}: ${String(error)}`));
    };
    try {
      await this.persist(job);
      await this.executor.execute(job, await this.registry.catalog(), signal, save);
      return await this.finish(job, 'succeeded', null);
    } catch (error) {
      this.errors.set(job.id, error instanceof DomainError ? error.withDetails({ job_id: job.id }) : error);
      const cancelled = error instanceof JobCancelledError;
      const described = error instanceof DomainError ? { code: error.code, message: error.message } : { code: 'INTERNAL_ERROR', message: String(error) };
      if (!cancelled && !(error instanceof DomainError)) this.logger.error(`job ${job.id} failed: ${(error as Error)?.stack ?? String(error)}`);
      return this.finish(job, cancelled ? 'cancelled' : error instanceof MaterializationPartialError ? 'partial' : 'failed', described);
    }
  }

  private async finish(job: Job, state: Job['state'], error: Job['error']): Promise<Job> {
    job.state = state;
    job.error = error;
    job.finishedAt = new Date().toISOString();
    job.durationMs = job.startedAt ? Date.parse(job.finishedAt) - Date.parse(job.startedAt) : 0;
    this.jobDuration.observe({ kind: job.request.kind, state }, job.durationMs / 1000);
    for (const view of job.views) {
      this.rowsWritten.inc({ view: view.view, store: 'offline' }, view.rowsOffline);
      this.rowsWritten.inc({ view: view.view, store: 'online' }, view.rowsOnline);
    }
    for (const view of job.views) if (view.state === 'pending' || view.state === 'running') view.state = state === 'cancelled' ? 'cancelled' : view.state;
    await this.persist(job).catch((e: unknown) => this.logger.error(`could not save job ${job.id}: ${String(e)}`));
    this.saves.delete(job.id);
    this.active.delete(job.id);
    this.running_.delete(job.id);
    this.done.get(job.id)?.resolve(job);
    return job;
  }
}

function selectViews(catalog: FeatureCatalog, names?: string[]): string[] {
  if (!names || names.length === 0) return catalog.allViews().map((v) => v.def.name);
  for (const name of names) {
    try {
      catalog.view(name);
    } catch {
      throw new FeatureViewNotFoundError(`feature view ${JSON.stringify(name)} is not defined`, { feature_views: name });
    }
  }
  return [...new Set(names)];
}

function newJob(request: JobRequest): Job {
  const views: ViewRun[] = request.views.map((view) => ({
    view,
    state: 'pending',
    start: request.start ?? null,
    end: request.end,
    sourceSnapshot: null,
    sourceRows: 0,
    newRows: 0,
    rowsOffline: 0,
    rowsOnline: 0,
    durationMs: 0,
  }));
  return {
    id: newJobId(),
    request,
    state: 'queued',
    createdAt: new Date().toISOString(),
    startedAt: null,
    finishedAt: null,
    durationMs: null,
    views,
    progress: { view: null, phase: null, fraction: 0, rowsPerSecond: null, etaSeconds: null },
    error: null,
    owner: { pid: process.pid, host: hostname() },
  };
}
