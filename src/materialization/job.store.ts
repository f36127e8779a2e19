import { Job } from './job';

/**
 * Where jobs are kept, so their history survives a restart. Contract: `save` writes the whole
 * job (insert or replace); `list` returns the most recent first; `markInterrupted` turns every
 * job still queued or running into a failed one — called when the store is first opened by a
 * process, because only one process can hold it and any earlier one is gone.
 */
export abstract class JobStore {
  abstract save(job: Job): Promise<void>;
  abstract get(id: string): Promise<Job | null>;
  abstract list(limit: number): Promise<Job[]>;
}
