import { LakeUnavailableError, MaterializationInProgressError, ValidationFailedError } from '../common/errors';
import { ShutdownSignal } from '../common/shutdown-signal';
import { Task, TaskContext, TaskOutcome } from './job-queue';
import { LocalJobQueue } from './local.job-queue';

/** The local queue keeps BullMQ's semantics: retries of passing failures, a fan-out's `then` after all, locks, cancel. */
describe('LocalJobQueue', () => {
  let queue: LocalJobQueue;
  const runs: string[] = [];
  let seen: TaskOutcome[] | undefined;
  let finished: () => void;
  let done: Promise<void>;

  beforeEach(() => {
    queue = new LocalJobQueue(new ShutdownSignal(), 3);
    runs.length = 0;
    seen = undefined;
    done = new Promise((resolve) => (finished = resolve));
  });

  afterEach(() => queue.onApplicationShutdown());

  function handler(behaviour: (task: Task, context: TaskContext) => Promise<Record<string, unknown>>) {
    return {
      run: async (task: Task, context: TaskContext) => {
        runs.push(`${task.kind}${task.kind === 'range' ? task.buckets.join('') : ''}#${context.attempt}`);
        if (task.kind === 'finish') {
          seen = await context.outcomes();
          finished();
          return {};
        }
        return behaviour(task, context);
      },
    };
  }

  it('retries a task that failed for a passing reason, fails one that cannot pass at once, and then runs `then` with every outcome', async () => {
    let flaky = 0;
    await queue.consume(
      handler(async (task) => {
        if (task.kind === 'plan') {
          await queue.fanOut([0, 1, 2].map((b) => ({ kind: 'range', jobId: 'j', view: 'v', buckets: [b] })), { kind: 'finish', jobId: 'j' });
          return {};
        }
        if (task.kind === 'range' && task.buckets[0] === 1 && flaky++ === 0) throw new LakeUnavailableError('the lake blinked');
        if (task.kind === 'range' && task.buckets[0] === 2) throw new ValidationFailedError('never passes');
        return { ok: true };
      }),
      2,
    );
    await queue.submit('j');
    await done;
    expect(runs.filter((r) => r.startsWith('range1'))).toEqual(['range1#1', 'range1#2']);
    expect(runs.filter((r) => r.startsWith('range2'))).toEqual(['range2#1']);
    expect(runs[runs.length - 1]).toBe('finish#1');
    const byBucket = Object.fromEntries(seen!.map((o) => [(o.task as Extract<Task, { kind: 'range' }>).buckets[0], o.error?.code ?? o.result]));
    expect(byBucket).toEqual({ 0: { ok: true }, 1: { ok: true }, 2: 'VALIDATION_FAILED' });
  });

  it('runs `then` at once after an empty fan-out', async () => {
    await queue.consume(handler(async () => (await queue.fanOut([], { kind: 'finish', jobId: 'j' }), {})), 1);
    await queue.submit('j');
    await done;
    expect(seen).toEqual([]);
  });

  it('lets one job hold a view, and tells tasks of a cancel at once', async () => {
    await queue.lockViews('a', ['v1', 'v2']);
    await expect(queue.lockViews('b', ['v3', 'v2'])).rejects.toBeInstanceOf(MaterializationInProgressError);
    await queue.unlockViews('a', ['v1', 'v2']);
    await expect(queue.lockViews('b', ['v3', 'v2'])).resolves.toBeUndefined();
    const heard = new Promise<void>((resolve) => queue.onCancel('b', resolve));
    await queue.requestCancel('b');
    await heard;
    expect(await queue.isCancelled('b')).toBe(true);
  });
});
