import { Injectable } from '@nestjs/common';
import { Metrics } from '../metrics/metrics';
import { Job } from './job';

/** Prometheus figures of finished jobs: recorded once per job, by the process whose /metrics is scraped for it. */
@Injectable()
export class JobMetrics {
  private readonly jobDuration;
  private readonly rowsWritten;

  constructor(metrics: Metrics) {
    this.jobDuration = metrics.histogram('featurelake_job_duration_seconds', 'Materialization jobs by kind and final state', ['kind', 'state']);
    this.rowsWritten = metrics.counter('featurelake_job_rows_written_total', 'Rows materialization jobs wrote, by view and store', ['view', 'store']);
  }

  record(job: Job): void {
    this.jobDuration.observe({ kind: job.request.kind, state: job.state }, (job.durationMs ?? 0) / 1000);
    for (const view of job.views) {
      this.rowsWritten.inc({ view: view.view, store: 'offline' }, view.rowsOffline);
      this.rowsWritten.inc({ view: view.view, store: 'online' }, view.rowsOnline);
    }
  }
}
