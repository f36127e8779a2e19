import { Command } from 'commander';
import { formatTimestamp, requireTimestamp } from '../../core/timestamp';
import { Job, JobRequest } from '../../materialization/job';
import { MaterializationJobs } from '../../materialization/materialization-jobs.service';
import { GlobalOptions, withServices } from '../context';
import { count, seconds, table } from '../output';
import { ProgressReporter } from '../progress';

const views = (list?: string) => (list ? list.split(',').map((v) => v.trim()).filter(Boolean) : undefined);

export function materializeCommands(program: Command, globals: () => GlobalOptions): void {
  program
    .command('materialize')
    .description('recompute [START, END] of feature views from the lake into the offline and online stores')
    .argument('<start>', 'window start, ISO-8601 (UTC when no offset)')
    .argument('<end>', 'window end, ISO-8601 (UTC when no offset)')
    .option('--views <names>', 'comma-separated feature views (default: all)')
    .action((start: string, end: string, options: { views?: string }) =>
      runJob(globals(), { kind: 'materialize', start: requireTimestamp(start, 'START'), end: requireTimestamp(end, 'END'), views: views(options.views) }),
    );

  program
    .command('materialize-incremental')
    .description("materialize what arrived in the lake since each view's last run (late events included), up to END")
    .argument('<end>', 'window end, ISO-8601 (UTC when no offset), e.g. now: $(date -u +%FT%TZ)')
    .option('--views <names>', 'comma-separated feature views (default: all)')
    .action((end: string, options: { views?: string }) =>
      runJob(globals(), { kind: 'materialize-incremental', end: requireTimestamp(end, 'END'), views: views(options.views) }),
    );

  program
    .command('jobs')
    .description('materialization jobs, most recent first (or one job with its id)')
    .argument('[id]', 'a job id')
    .action((id: string | undefined) =>
      withServices(globals(), async (get) => {
        const jobs = get(MaterializationJobs);
        if (id) return printJob(await jobs.get(id));
        const rows = (await jobs.list(50)).map((j) => [j.id, j.request.kind, j.state, j.request.views.join(','), j.createdAt, j.durationMs === null ? '-' : seconds(j.durationMs), j.error?.code ?? '']);
        console.log(table(['job', 'kind', 'state', 'feature views', 'created', 'time', 'error'], rows));
      }),
    );
}

/** Submits the job and shows its progress (read back as any client would) until it ends. */
function runJob(globals: GlobalOptions, request: Omit<JobRequest, 'views'> & { views?: string[] }): Promise<void> {
  return withServices(globals, async (get) => {
    const jobs = get(MaterializationJobs);
    const job = await jobs.submit(request);
    const reporter = new ProgressReporter();
    const timer = setInterval(() => {
      void jobs.get(job.id).then(({ progress: { view, phase, fraction, rowsPerSecond, etaSeconds } }) => {
        if (view) reporter.update({ label: `${view} (${phase ?? 'starting'})`, fraction, rowsPerSecond, etaSeconds });
      }, () => undefined);
    }, 500);
    try {
      printJob(await jobs.wait(job.id));
    } catch (error) {
      clearInterval(timer);
      reporter.done();
      printJob(await jobs.get(job.id)); // each view's state and error, then the job's error and exit 1
      throw error;
    } finally {
      clearInterval(timer);
      reporter.done();
    }
  });
}

function printJob(job: Job): void {
  const rows = job.views.map((v) => [
    v.view,
    v.state,
    v.sourceSnapshot === null ? '-' : String(v.sourceSnapshot),
    v.start === null ? 'beginning' : formatTimestamp(v.start),
    formatTimestamp(v.end),
    count(v.newRows),
    count(v.rowsOffline),
    count(v.rowsOnline),
    seconds(v.durationMs),
    v.error ? `${v.error.code}: ${v.error.message}` : (v.note ?? ''),
  ]);
  console.log(table(['feature view', 'state', 'snapshot', 'from', 'to', 'new rows', 'offline rows', 'online rows', 'time', ''], rows));
  console.log(`Job ${job.id} ${job.state} in ${seconds(job.durationMs ?? 0)}.${job.error ? ` ${job.error.code}: ${job.error.message}` : ''}`);
}
