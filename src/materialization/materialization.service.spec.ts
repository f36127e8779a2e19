import { testCatalog } from '../../test/support/catalog';
import { FeatureViewSqlError } from '../common/errors';
import { stoppedError } from '../duckdb/progress';
import { InMemoryJobStore } from '../../test/support/fake-jobs';
import { InMemoryOnlineStore } from '../../test/support/fakes';
import { ResolvedView } from '../core/catalog';
import { OnlineRecord } from '../core/online-record';
import { DatasetService } from '../lake/dataset.service';
import { DatasetSnapshot } from '../lake/dataset-manifest';
import { BucketRequest, BucketRun, OfflineStore, PendingBatch, RunControl, SourceSnapshot, ViewState } from '../offline-store/offline-store';
import { RegistryService } from '../registry/registry.service';
import { Metrics } from '../metrics/metrics';
import { JobMetrics } from './job-metrics';
import { MaterializationJobs } from './materialization-jobs.service';
import { MaterializationService } from './materialization.service';
import { AppConfig, Limits } from '../config/app-config';
import { LocalJobQueue } from '../queue/local.job-queue';
import { MaterializationTasks } from './materialization-tasks';
import { RunningJobs } from './running-jobs';
import { defaultLimits } from '../config/config-limits';
import { ShutdownSignal } from '../common/shutdown-signal';

/** Offline store double: records calls, keeps per-view state and pending entities per bucket. */
class FakeOfflineStore {
  calls: string[] = [];
  compactions: string[] = [];
  states = new Map<string, ViewState>();
  pending = new Map<string, Set<string>>();
  consumed = new Map<string, number>();
  gate?: Promise<void>;
  buckets = 1;

  async materializeBuckets(view: ResolvedView, buckets: number[], source: SourceSnapshot, request: BucketRequest, control?: RunControl): Promise<Map<number, BucketRun>> {
    const runs = new Map<number, BucketRun>();
    for (const bucket of buckets) runs.set(bucket, await this.materializeBucket(view, bucket, source, request, control));
    return runs;
  }

  private async materializeBucket(view: ResolvedView, bucket: number, source: SourceSnapshot, request: BucketRequest, control?: RunControl): Promise<BucketRun> {
    const key = `${view.def.name}/${bucket}`;
    const fresh = source.files.filter((f) => f.addedInSnapshot > (this.consumed.get(key) ?? 0));
    if (request.kind === 'incremental' && fresh.length === 0 && this.state(view).watermark === request.end) return { rowsWritten: 0, newRows: 0, note: 'up to date' };
    this.calls.push(request.kind === 'window' ? `window ${key} ${request.start}..${request.end}` : `incremental ${key} snapshot ${source.snapshotId} new ${fresh.length} to ${request.end} (${request.mode})`);
    await this.wait(control);
    this.consumed.set(key, source.snapshotId);
    if (request.kind === 'incremental') Object.assign(this.state(view), { consumedSnapshot: source.snapshotId, watermark: request.end });
    this.markPending(view, bucket);
    return { rowsWritten: 5, newRows: fresh.reduce((n, f) => n + f.rows, 0) };
  }
  async viewState(view: ResolvedView): Promise<ViewState> {
    const pendingBuckets = [...this.pending.entries()].filter(([k, v]) => k.startsWith(`${view.def.name}/`) && v.size > 0).length;
    return { ...this.state(view), pendingBuckets };
  }
  async *pendingOnline(view: ResolvedView, bucket: number): AsyncIterable<PendingBatch> {
    const values = view.def.features.map(() => null);
    const pending = this.pending.get(`${view.def.name}/${bucket}`) ?? new Set<string>();
    for (const key of [...pending]) {
      const records: OnlineRecord[] = [{ entityKey: key, eventTimestamp: 1n, createdTimestamp: null, values }];
      yield { records, ack: async () => void pending.delete(key) };
    }
  }
  async compactBucket(view: ResolvedView, bucket: number) {
    this.compactions.push(`${view.def.name}/${bucket}`);
    return false;
  }
  async markAllPending(view: ResolvedView) {
    this.calls.push(`all pending ${view.def.name}`);
    for (let b = 0; b < this.buckets; b++) this.markPending(view, b);
  }
  async recordOnlineEpoch(view: ResolvedView, epoch: number) {
    this.state(view).onlineEpoch = epoch;
  }
  private markPending(view: ResolvedView, bucket: number) {
    this.pending.set(`${view.def.name}/${bucket}`, new Set([`${bucket}:1`, `${bucket}:2`]));
  }
  private state(view: ResolvedView): ViewState {
    if (!this.states.has(view.def.name)) this.states.set(view.def.name, { buckets: this.buckets, consumedSnapshot: null, watermark: null, pendingBuckets: 0, onlineEpoch: null, hasRows: false });
    return this.states.get(view.def.name)!;
  }
  private async wait(control?: RunControl) {
    await this.gate;
    if (control?.signal?.aborted) throw stoppedError(control.signal);
  }
}

function testConfig(limits: Partial<Limits> = {}): AppConfig {
  return AppConfig.of({ limits: { ...defaultLimits(), ...limits }, queue: { url: 'local', concurrency: 1, rangesPerView: 4, attempts: 3, lockSeconds: 30 } } as AppConfig);
}

/** Jobs on the local queue, their tasks run in this process one at a time (so calls come in a fixed order). */
function localJobs(config: AppConfig, registry: RegistryService, executor: MaterializationService, store: InMemoryJobStore): MaterializationJobs {
  const queue = new LocalJobQueue(new ShutdownSignal(), config.queue.attempts);
  const running = new RunningJobs();
  void new MaterializationTasks(config, registry, executor, store, queue, running, new JobMetrics(new Metrics()), { worker: true }).onApplicationBootstrap();
  return new MaterializationJobs(registry, store, queue, running);
}

function snapshot(id: number): DatasetSnapshot {
  return {
    snapshotId: id,
    rowCount: 30,
    files: Array.from({ length: id }, (_, i) => ({ key: `f${i + 1}`, rows: 10, addedInSnapshot: i + 1, minTimestamp: null, maxTimestamp: null })),
  } as unknown as DatasetSnapshot;
}

describe('materialization jobs (fake stores)', () => {
  const catalog = testCatalog();
  let offline: FakeOfflineStore;
  let online: InMemoryOnlineStore;
  let store: InMemoryJobStore;
  let latest: DatasetSnapshot | null;
  let jobs: MaterializationJobs;

  beforeEach(() => {
    offline = new FakeOfflineStore();
    online = new InMemoryOnlineStore();
    store = new InMemoryJobStore();
    latest = snapshot(1);
    const datasets = { snapshot: async () => latest, localFiles: async (s: DatasetSnapshot) => s.files.map((f) => f.key), localPath: async (k: string) => k } as unknown as DatasetService;
    const registry = { catalog: async () => catalog } as unknown as RegistryService;
    const executor = new MaterializationService(datasets, offline as unknown as OfflineStore, online, new Metrics());
    jobs = localJobs(testConfig(), registry, executor, store);
  });

  it('runs a window job: offline, then pending entities online in batches, and records it', async () => {
    const job = await jobs.submit({ kind: 'materialize', start: 10n, end: 20n, views: ['driver_stats'] });
    expect(job.state).toBe('queued');
    const done = await jobs.wait(job.id);
    expect(done.state).toBe('succeeded');
    expect(offline.calls).toEqual(['window driver_stats/0 10..20']);
    expect(online.writes.map((w) => w.length)).toEqual([1, 1]);
    expect(done.views[0]).toMatchObject({ view: 'driver_stats', state: 'done', sourceSnapshot: 1, rowsOffline: 5, rowsOnline: 2 });
    expect((await store.get(job.id))?.state).toBe('succeeded');
  });

  it('runs a view bucket by bucket: each recomputed, written online and offered compaction before the next', async () => {
    offline.buckets = 3;
    const done = await jobs.wait((await jobs.submit({ kind: 'materialize', start: 10n, end: 20n, views: ['driver_stats'] })).id);
    expect(offline.calls).toEqual([0, 1, 2].map((b) => `window driver_stats/${b} 10..20`));
    expect(offline.compactions).toEqual([0, 1, 2].map((b) => `driver_stats/${b}`));
    expect(done.views[0]).toMatchObject({ state: 'done', rowsOffline: 15, rowsOnline: 6 });
    expect(await offline.viewState(catalog.view('driver_stats'))).toMatchObject({ pendingBuckets: 0, onlineEpoch: 1 });
  });

  it('feeds incremental runs the files added since the snapshot each view consumed', async () => {
    await jobs.wait((await jobs.submit({ kind: 'materialize-incremental', end: 20n, views: ['zone_stats'] })).id);
    latest = snapshot(3);
    const second = await jobs.wait((await jobs.submit({ kind: 'materialize-incremental', end: 30n, views: ['zone_stats'] })).id);
    expect(offline.calls).toEqual(['incremental zone_stats/0 snapshot 1 new 1 to 20 (entities)', 'incremental zone_stats/0 snapshot 3 new 2 to 30 (entities)']);
    expect(second.views[0]).toMatchObject({ start: 20n, newRows: 20 });
  });

  it('changes nothing when a finished incremental job is run again', async () => {
    await jobs.wait((await jobs.submit({ kind: 'materialize-incremental', end: 20n, views: ['zone_stats'] })).id);
    const again = await jobs.wait((await jobs.submit({ kind: 'materialize-incremental', end: 20n, views: ['zone_stats'] })).id);
    expect(offline.calls).toHaveLength(1);
    expect(again.views[0]).toMatchObject({ state: 'done', rowsOffline: 0, rowsOnline: 0, note: expect.stringMatching(/up to date/) });
  });

  it('skips a view whose dataset has no data yet', async () => {
    latest = null;
    const job = await jobs.wait((await jobs.submit({ kind: 'materialize', start: 1n, end: 2n })).id);
    expect(job.views.map((v) => v.state)).toEqual(['skipped', 'skipped']);
  });

  it('refuses a job on a view that a queued or running job covers (409 with its id), then allows it', async () => {
    let release!: () => void;
    offline.gate = new Promise((r) => (release = r));
    const first = await jobs.submit({ kind: 'materialize', start: 1n, end: 2n, views: ['driver_stats'] });
    await expect(jobs.submit({ kind: 'materialize-incremental', end: 2n, views: ['zone_stats', 'driver_stats'] })).rejects.toMatchObject({
      code: 'MATERIALIZATION_IN_PROGRESS',
      details: { job_id: first.id, view: 'driver_stats' },
    });
    const other = await jobs.submit({ kind: 'materialize-incremental', end: 2n, views: ['zone_stats'] });
    expect(other.state).toBe('queued'); // disjoint views queue behind
    release();
    await jobs.wait(first.id);
    await jobs.wait(other.id);
    await expect(jobs.submit({ kind: 'materialize', start: 1n, end: 2n, views: ['driver_stats'] })).resolves.toBeDefined();
  });

  it('cancels a queued job at once and a running one at its next safe point', async () => {
    let release!: () => void;
    offline.gate = new Promise((r) => (release = r));
    const running = await jobs.submit({ kind: 'materialize', start: 1n, end: 2n, views: ['driver_stats'] });
    const queued = await jobs.submit({ kind: 'materialize', start: 1n, end: 2n, views: ['zone_stats'] });
    expect((await jobs.cancel(queued.id)).state).toBe('cancelled');
    await expect(jobs.wait(queued.id)).rejects.toMatchObject({ code: 'JOB_CANCELLED' });
    const cancelling = jobs.cancel(running.id);
    release();
    expect((await cancelling).state).toBe('cancelled');
    expect(online.writes).toEqual([]);
    await expect(jobs.cancel(running.id)).rejects.toMatchObject({ code: 'JOB_FINISHED' });
    expect(offline.calls).toEqual(['window driver_stats/0 1..2']);
  });

  it('records a failure with its code, and rethrows it to whoever waits', async () => {
    online.write = async () => {
      throw Object.assign(new Error('down'), {});
    };
    const job = await jobs.submit({ kind: 'materialize', start: 1n, end: 2n, views: ['driver_stats'] });
    await expect(jobs.wait(job.id)).rejects.toThrow('down');
    expect(await store.get(job.id)).toMatchObject({ state: 'failed', error: { code: 'INTERNAL_ERROR' }, views: [{ state: 'failed' }] });
  });

  it('keeps a failing view from stopping the others: the job ends partial, each view with its own state and error', async () => {
    const materialize = offline.materializeBuckets.bind(offline);
    offline.materializeBuckets = async (view, ...rest) => {
      if (view.def.name === 'driver_stats') throw new FeatureViewSqlError('feature view driver_stats: its sql fails: no such column', { view: 'driver_stats' });
      return materialize(view, ...rest);
    };
    const job = await jobs.submit({ kind: 'materialize', start: 1n, end: 2n });
    await expect(jobs.wait(job.id)).rejects.toMatchObject({ code: 'MATERIALIZATION_PARTIAL', details: { failed_views: { driver_stats: { code: 'FEATURE_VIEW_SQL_INVALID' } } } });
    const stored = await store.get(job.id);
    expect(stored).toMatchObject({ state: 'partial', error: { code: 'MATERIALIZATION_PARTIAL' } });
    expect(stored!.views.map((v) => [v.view, v.state, v.error?.code])).toEqual([
      ['driver_stats', 'failed', 'FEATURE_VIEW_SQL_INVALID'],
      ['zone_stats', 'done', undefined],
    ]);
    expect(online.writes.length).toBeGreaterThan(0); // zone_stats went online
  });

  it('stops a job over limits.job_timeout_seconds, naming the limit', async () => {
    const config = testConfig({ jobTimeoutSeconds: 0.05 });
    const registry = { catalog: async () => catalog } as unknown as RegistryService;
    const datasets = { snapshot: async () => latest, localFiles: async (s: DatasetSnapshot) => s.files.map((f) => f.key), localPath: async (k: string) => k } as unknown as DatasetService;
    const slow = localJobs(config, registry, new MaterializationService(datasets, offline as unknown as OfflineStore, online, new Metrics()), store);
    let release!: () => void;
    offline.gate = new Promise((r) => (release = r));
    const job = await slow.submit({ kind: 'materialize', start: 1n, end: 2n, views: ['driver_stats'] });
    setTimeout(release, 200);
    await expect(slow.wait(job.id)).rejects.toMatchObject({ code: 'TIME_LIMIT_EXCEEDED', details: { limit: 'limits.job_timeout_seconds' } });
    expect(await store.get(job.id)).toMatchObject({ state: 'failed', error: { code: 'TIME_LIMIT_EXCEEDED' } });
  });

  it('rewrites a view the online store lost (its marker gone), and says so', async () => {
    await jobs.wait((await jobs.submit({ kind: 'materialize-incremental', end: 20n, views: ['zone_stats'] })).id);
    expect([...online.epochs.values()]).toEqual([1]);
    online.epochs.clear(); // what a Redis restarted without persistence looks like
    online.records.clear();
    const again = await jobs.wait((await jobs.submit({ kind: 'materialize-incremental', end: 20n, views: ['zone_stats'] })).id);
    expect(offline.calls).toContain('all pending zone_stats');
    expect(again.views[0]).toMatchObject({ rowsOnline: 2, note: expect.stringMatching(/online store had lost this view \(it has no marker for it\)/) });
    expect([...online.epochs.values()]).toEqual([2]);
    const third = await jobs.wait((await jobs.submit({ kind: 'materialize-incremental', end: 20n, views: ['zone_stats'] })).id);
    expect(third.views[0]).toMatchObject({ rowsOnline: 0 }); // intact now: nothing rewritten
    expect(offline.calls.filter((c) => c.startsWith('all pending'))).toHaveLength(1);
  });

  it('an online-restore job only rewrites what the store lost, touching no lake data', async () => {
    await jobs.wait((await jobs.submit({ kind: 'materialize', start: 1n, end: 2n, views: ['driver_stats'] })).id);
    online.epochs.clear();
    const restore = await jobs.wait((await jobs.submit({ kind: 'online-restore', end: 3n, views: ['driver_stats'] })).id);
    expect(offline.calls).toEqual(['window driver_stats/0 1..2', 'all pending driver_stats']);
    expect(restore.views[0]).toMatchObject({ state: 'done', rowsOnline: 2, rowsOffline: 0 });
  });

  it('validates before queueing: window order and view names', async () => {
    await expect(jobs.submit({ kind: 'materialize', start: 20n, end: 10n })).rejects.toMatchObject({ code: 'INVALID_WINDOW' });
    await expect(jobs.submit({ kind: 'materialize', start: 1n, end: 2n, views: ['nope'] })).rejects.toMatchObject({ code: 'FEATURE_VIEW_NOT_FOUND' });
    expect(store.jobs.size).toBe(0);
  });
});
