import { InMemoryObjectStore } from '../../test/support/fakes';
import { ManifestLog } from './manifest-log';

interface Counter {
  total: number;
  writers: string[];
}

describe('ManifestLog', () => {
  it('numbers entries from 1 and reads any of them back', async () => {
    const log = new ManifestLog<Counter>(new InMemoryObjectStore(), 'x/');
    expect(await log.latest()).toBeNull();
    await log.commit((latest) => ({ total: (latest?.manifest.total ?? 0) + 1, writers: ['a'] }));
    await log.commit((latest) => ({ total: (latest?.manifest.total ?? 0) + 1, writers: ['b'] }));
    expect(await log.ids()).toEqual([1, 2]);
    expect((await log.get(1))?.manifest.writers).toEqual(['a']);
    expect((await log.latest())?.manifest.total).toBe(2);
  });

  it('loses no commit when writers in separate processes race on the same log', async () => {
    const shared = new Map<string, Buffer>();
    // Distinct locations: no in-process serialisation between them, only the create-only write.
    const logs = [0, 1, 2, 3].map((i) => new ManifestLog<Counter>(new InMemoryObjectStore(shared, `memory://process-${i}`), 'x/'));
    await Promise.all(
      logs.flatMap((log, i) =>
        [0, 1, 2].map((j) => log.commit((latest) => ({ total: (latest?.manifest.total ?? 0) + 1, writers: [...(latest?.manifest.writers ?? []), `${i}.${j}`] }))),
      ),
    );
    const latest = (await logs[0].latest())!;
    expect(latest.id).toBe(12);
    expect(latest.manifest.total).toBe(12);
    expect([...latest.manifest.writers].sort()).toEqual(['0.0', '0.1', '0.2', '1.0', '1.1', '1.2', '2.0', '2.1', '2.2', '3.0', '3.1', '3.2']);
  });

  it('gives up with COMMIT_CONFLICT when the next slot is never free', async () => {
    const store = new InMemoryObjectStore();
    store.putIfAbsent = async () => false;
    const log = new ManifestLog<Counter>(store, 'x/', { attempts: 3, baseDelayMs: 0 });
    await expect(log.commit(() => ({ total: 1, writers: [] }))).rejects.toMatchObject({ code: 'COMMIT_CONFLICT', message: /after 3 attempts/ });
  });
});
