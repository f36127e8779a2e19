import { Job } from '../../src/materialization/job';
import { JobStore } from '../../src/materialization/job.store';

/** JobStore in memory (deep copies, as a real store would keep). */
export class InMemoryJobStore extends JobStore {
  readonly jobs = new Map<string, Job>();
  saves = 0;

  async save(job: Job): Promise<void> {
    this.saves++;
    this.jobs.set(job.id, structuredClone(job));
  }
  async get(id: string): Promise<Job | null> {
    const job = this.jobs.get(id);
    return job ? structuredClone(job) : null;
  }
  async list(limit: number): Promise<Job[]> {
    return [...this.jobs.values()].sort((a, b) => b.createdAt.localeCompare(a.createdAt)).slice(0, limit);
  }
}
