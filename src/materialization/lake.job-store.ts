import { hostname } from 'node:os';
import { DocumentStore } from '../storage/document-store';
import { ACTIVE_STATES, Job } from './job';
import { JobStore } from './job.store';

const PREFIX = 'jobs/';

/**
 * Job history in the lake, one document per job (`jobs/<id>.json`, ids sort by creation time),
 * so that every replica and worker sees the same history and a restart loses none of it. A job
 * still queued or running whose owner was a process of this host that is gone (a kill -9, a
 * crash) reads as failed, JOB_INTERRUPTED, and is saved so — unless it went through Redis,
 * whose queue gives a dead worker's tasks to another.
 */
export class LakeJobStore extends JobStore {
  constructor(
    private readonly documents: DocumentStore,
    /** Jobs this process is running now (never interrupted, whatever their record says). */
    private readonly running: (id: string) => boolean = () => false,
  ) {
    super();
  }

  async save(job: Job): Promise<void> {
    await this.documents.put(keyOf(job.id), job);
  }

  async get(id: string): Promise<Job | null> {
    if (!isJobId(id)) return null;
    const job = await this.documents.get<Job>(keyOf(id));
    return job && (await this.settle(job));
  }

  async list(limit: number): Promise<Job[]> {
    const keys = (await this.documents.keys(PREFIX)).filter((k) => isJobId(k.slice(PREFIX.length, -'.json'.length))).sort().reverse().slice(0, limit);
    const jobs = await Promise.all(keys.map((k) => this.documents.get<Job>(k)));
    return Promise.all(jobs.filter((j): j is Job => j !== null).map((j) => this.settle(j)));
  }

  /** A job left active by a dead process of this host becomes failed, JOB_INTERRUPTED. */
  private async settle(job: Job): Promise<Job> {
    if (!ACTIVE_STATES.includes(job.state) || job.owner.queue === 'redis' || this.running(job.id) || job.owner.host !== hostname() || isAlive(job.owner.pid)) return job;
    const interrupted: Job = {
      ...job,
      state: 'failed',
      finishedAt: new Date().toISOString(),
      error: { code: 'JOB_INTERRUPTED', message: 'the process running this job stopped before it finished; run it again (it resumes safely)' },
    };
    await this.save(interrupted);
    return interrupted;
  }
}

function keyOf(id: string): string {
  return `${PREFIX}${id}.json`;
}

/** Job ids are `20261202T150102123Z-<8 hex>`: sortable by creation, safe in a lake key. */
export function isJobId(id: string): boolean {
  return /^\d{8}T\d{9}Z-[0-9a-f]{8}$/.test(id);
}

export function newJobId(now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:.]/g, '');
  return `${stamp}-${Math.floor(Math.random() * 2 ** 32).toString(16).padStart(8, '0')}`;
}

function isAlive(pid: number): boolean {
  if (pid === process.pid) return false; // ours, but not running here: a previous life of this pid
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
