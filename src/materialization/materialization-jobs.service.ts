import { Injectable, Optional } from '@nestjs/common';
import { hostname } from 'node:os';
import { ErrorRecord, FeatureViewNotFoundError, fromErrorRecord, InvalidWindowError, JobFinishedError, JobNotFoundError } from '../common/errors';
import { FeatureCatalog } from '../core/catalog';
import { formatTimestamp } from '../core/timestamp';
import { JobQueue, taskKey } from '../queue/job-queue';
import { RegistryService } from '../registry/registry.service';
import { ACTIVE_STATES, Job, JobRequest, ViewRun } from './job';
import { JobStore } from './job.store';
import { JobMetrics } from './job-metrics';
import { newJobId } from './lake.job-store';
import { RunningJobs } from './running-jobs';

/**
 * Materialization jobs as a client sees them: submitted to the JobQueue (BullMQ, or the local
 * queue) after validation and after taking their views (two jobs never share a feature view
 * while either is active), read back from the job record in the lake with live progress from
 * the queue, cancelled through the queue's flag, and waited for on its announcement. The work
 * itself is MaterializationTasks', on whichever process takes the tasks.
 */
/** A job's record is saved just before its first task is queued: younger than this, it is never taken for lost. */
const LOST_AFTER_MS = 5000;
/** How often a caller waiting for a job looks at it besides waiting for its announcement. */
const RECHECK_MS = 5000;

@Injectable()
export class MaterializationJobs {
  constructor(
    private readonly registry: RegistryService,
    private readonly store: JobStore,
    private readonly queue: JobQueue,
    private readonly running: RunningJobs = new RunningJobs(),
    @Optional() private readonly metrics?: JobMetrics,
  ) {}

  /** Validates, takes the views and queues the job; 409 when an active job covers one of its views; 503 QUEUE_UNAVAILABLE when the queue cannot take it. */
  async submit(request: Omit<JobRequest, 'views'> & { views?: string[] }): Promise<Job> {
    const catalog = await this.registry.catalog();
    const views = selectViews(catalog, request.views);
    if (request.start !== undefined && request.start > request.end) {
      throw new InvalidWindowError(`start ${formatTimestamp(request.start)} is after end ${formatTimestamp(request.end)}`, { field: 'start_ts' });
    }
    await this.queue.ping();
    const job = newJob({ ...request, views }, this.queue.mode);
    await this.queue.lockViews(job.id, views, (holder) => this.isActive(holder));
    try {
      if (this.queue.mode === 'local') {
        this.running.add(job.id);
        // Its end may be written by the worker process serve forked: forget it here once it is announced, and record its figures.
        void this.queue.whenFinished(job.id, async () => false).then(() => this.finishedElsewhere(job.id));
      }
      await this.store.save(job);
      await this.queue.submit(job.id);
    } catch (error) {
      this.running.delete(job.id);
      await this.queue.unlockViews(job.id, views).catch(() => undefined);
      if ((await this.store.get(job.id).catch(() => null))?.state === 'queued') await this.store.save({ ...job, state: 'failed', finishedAt: new Date().toISOString(), error: { code: 'QUEUE_UNAVAILABLE', message: String((error as Error)?.message ?? error) } }).catch(() => undefined);
      throw error;
    }
    return job;
  }

  private async finishedElsewhere(id: string): Promise<void> {
    this.running.delete(id);
    if (!this.queue.callsLeaveProcess || !this.metrics) return;
    const job = await this.store.get(id).catch(() => null);
    if (job) this.metrics.record(job);
  }

  /** Resolves with the finished job; rejects with the job's own error when it failed, ended partial or was cancelled. */
  async wait(id: string): Promise<Job> {
    const ended = async () => !ACTIVE_STATES.includes((await this.get(id)).state);
    // The announcement, or a look every few seconds: a job whose tasks cannot end it is ended by `get`.
    let announced = false;
    const announcement = this.queue.whenFinished(id, ended).then(() => (announced = true));
    while (!announced) {
      await Promise.race([announcement, new Promise((resolve) => setTimeout(resolve, RECHECK_MS).unref())]);
      if (!announced && (await ended())) break;
    }
    const job = await this.get(id);
    if (job.state === 'failed' || job.state === 'cancelled' || job.state === 'partial') throw fromErrorRecord({ status: 500, ...(job.error ?? { code: 'INTERNAL_ERROR', message: job.state }) }).withDetails({ job_id: id });
    return job;
  }

  /** The job's record, with the live progress of its tasks while it runs. */
  async get(id: string): Promise<Job> {
    const job = await this.store.get(id);
    if (!job) throw new JobNotFoundError(`job ${JSON.stringify(id)} does not exist`, { job_id: id });
    if (ACTIVE_STATES.includes(job.state) && (await this.lost(job))) {
      return this.endHere(job, { code: 'JOB_INTERRUPTED', status: 500, message: "the job queue lost this job's tasks (its Redis restarted without persistence?); run it again (it resumes safely)" });
    }
    const abandoned = ACTIVE_STATES.includes(job.state) && job.owner.queue === 'redis' ? await this.queue.abandonedTask(job.id).catch(() => null) : null;
    if (abandoned?.error) {
      const { code, status, message, details } = abandoned.error;
      return this.endHere(job, { code, status, message: `its ${taskKey(abandoned.task)} task failed: ${message}`, details: { ...details, task: taskKey(abandoned.task) } });
    }
    if (job.state === 'running') await this.overlayProgress(job);
    return job;
  }

  /**
   * An active job on Redis whose tasks the queue no longer holds (its Redis restarted without
   * persistence, say) can never finish. Jobs younger than a few seconds are left alone: their
   * record is saved just before their first task is queued.
   */
  private async lost(job: Job): Promise<boolean> {
    if (job.owner.queue !== 'redis' || this.queue.mode !== 'redis' || Date.now() - Date.parse(job.createdAt) < LOST_AFTER_MS) return false;
    return !(await this.queue.holdsTasks(job.id).catch(() => true)); // the queue away: nothing can be said
  }

  /** Ends a job whose tasks cannot end it (they are gone, or failed where the job's record was out of reach): its record, views and waiters. */
  private async endHere(job: Job, error: ErrorRecord, state: 'failed' | 'cancelled' = 'failed'): Promise<Job> {
    const views = job.views.map((v) => (v.state === 'pending' || v.state === 'running' ? { ...v, state } : v));
    const ended: Job = { ...job, state, views, finishedAt: new Date().toISOString(), error };
    await this.store.save(ended);
    await this.queue.unlockViews(job.id, job.request.views).catch(() => undefined);
    await this.queue.announceFinished(job.id).catch(() => undefined); // for whoever waits on it elsewhere
    return ended;
  }

  async list(limit = 100): Promise<Job[]> {
    return this.store.list(limit);
  }

  /** Cancels a queued job before it starts, or a running one at its next safe point; resolves with the finished job; 409 when it has finished. */
  async cancel(id: string): Promise<Job> {
    const job = await this.get(id);
    if (!ACTIVE_STATES.includes(job.state)) throw new JobFinishedError(`job ${id} has already ${job.state}`, { job_id: id, state: job.state });
    await this.queue.requestCancel(id);
    // Not started: it ends here, rather than once its plan task gets a slot behind other jobs' tasks.
    // That task then finds the job finished and skips it; one that started meanwhile sees the flag.
    if (job.state === 'queued') {
      const latest = await this.store.get(id);
      if (latest?.state === 'queued') return this.endHere(latest, { code: 'JOB_CANCELLED', status: 409, message: 'cancelled before it started' }, 'cancelled');
    }
    await this.wait(id).catch(() => undefined);
    return this.get(id);
  }

  private async isActive(id: string): Promise<boolean> {
    const job = await this.store.get(id).catch(() => null);
    return job !== null && ACTIVE_STATES.includes(job.state);
  }

  /** Progress is the mean of the planned tasks' (each 0…1), so it is their sum however many workers share them. */
  private async overlayProgress(job: Job): Promise<void> {
    const planned = job.views.reduce((n, v) => n + (v.plan?.ranges.length ?? 0), 0);
    if (planned === 0) return;
    const reported = await this.queue.progress(job.id).catch(() => new Map<string, number>());
    const done = [...reported.values()].reduce((a, b) => a + b, 0);
    const current = job.views.find((v) => v.state === 'running');
    job.progress = { view: current?.view ?? null, phase: current ? 'offline' : null, fraction: Math.min(1, done / planned), rowsPerSecond: null, etaSeconds: null };
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

function newJob(request: JobRequest, queue: 'local' | 'redis'): Job {
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
    owner: { pid: process.pid, host: hostname(), queue },
  };
}
