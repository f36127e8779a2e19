import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalObjectStore } from '../../src/storage/local.object-store';
import { ObjectStore } from '../../src/storage/object-store';
import { S3ObjectStore } from '../../src/storage/s3.object-store';
import { objectStore } from '../support/lake';
import { startS3, TestS3 } from '../support/s3-server';

/** The ObjectStore contract, run against every adapter: a local folder and S3 (s3rver). */
describe.each(['local', 's3'] as const)('ObjectStore contract: %s', (kind) => {
  let store: ObjectStore;
  let s3: TestS3 | undefined;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'fl-store-'));
    if (kind === 'local') {
      store = new LocalObjectStore(join(dir, 'lake'));
    } else {
      s3 = await startS3();
      store = objectStore('s3', dir, s3);
    }
  });

  afterAll(async () => {
    if (store instanceof S3ObjectStore) store.destroy();
    await s3?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('reads back what it wrote and answers null for a missing key', async () => {
    await store.put('a/b/one.json', '{"x":1}');
    expect((await store.get('a/b/one.json'))?.toString()).toBe('{"x":1}');
    expect(await store.get('a/b/missing.json')).toBeNull();
    expect(await store.size('a/b/one.json')).toBe(7);
    expect(await store.size('a/b/missing.json')).toBeNull();
  });

  it('lists keys below a prefix in ascending order, and immediate folders', async () => {
    await store.put('list/x/2.json', '2');
    await store.put('list/x/10.json', '10');
    await store.put('list/y/1.json', '1');
    await store.put('listing-other/z.json', 'z');
    expect(await store.list('list/')).toEqual(['list/x/10.json', 'list/x/2.json', 'list/y/1.json']);
    expect(await store.listFolders('list/')).toEqual(['x', 'y']);
    expect(await store.list('nothing-here/')).toEqual([]);
  });

  it('lists past one page (S3 answers 1,000 keys at a time)', async () => {
    const keys = Array.from({ length: 1234 }, (_, i) => `paged/f${String(i).padStart(4, '0')}/x.json`);
    for (let i = 0; i < keys.length; i += 50) await Promise.all(keys.slice(i, i + 50).map((k) => store.put(k, 'x')));
    expect(await store.list('paged/')).toEqual(keys);
    expect((await store.listModified('paged/')).map((i) => i.key)).toEqual(keys);
    expect(await store.listFolders('paged/')).toEqual(keys.map((k) => k.split('/')[1]));
    await store.delete(keys);
    expect(await store.list('paged/')).toEqual([]);
  }, 120_000);

  it('lists keys with the time each was written', async () => {
    // Stores keep whole seconds (S3's Last-Modified): the bounds allow for it.
    const before = Math.floor(Date.now() / 1000) * 1000;
    await store.put('aged/a.json', 'a');
    await store.put('aged/b/c.json', 'c');
    const after = Date.now() + 1000;
    const listed = await store.listModified('aged/');
    expect(listed.map((i) => i.key)).toEqual(['aged/a.json', 'aged/b/c.json']);
    for (const item of listed) expect(item.modifiedMs >= before && item.modifiedMs <= after).toBe(true);
    expect(await store.listModified('nothing-here/')).toEqual([]);
  });

  it('putIfAbsent creates once and refuses to overwrite', async () => {
    expect(await store.putIfAbsent('cas/k.json', 'first')).toBe(true);
    expect(await store.putIfAbsent('cas/k.json', 'second')).toBe(false);
    expect((await store.get('cas/k.json'))?.toString()).toBe('first');
  });

  it('putIfAbsent lets exactly one of many concurrent writers win', async () => {
    const results = await Promise.all(Array.from({ length: 12 }, (_, i) => store.putIfAbsent('race/k.json', `writer-${i}`)));
    expect(results.filter(Boolean)).toHaveLength(1);
    const winner = results.indexOf(true);
    expect((await store.get('race/k.json'))?.toString()).toBe(`writer-${winner}`);
  });

  it('uploads files, hands out a local copy, and deletes', async () => {
    const file = join(dir, 'upload.bin');
    writeFileSync(file, Buffer.alloc(100_000, 7));
    await store.putFile('files/upload.bin', file);
    const local = await store.localPath('files/upload.bin');
    expect(readFileSync(local).equals(readFileSync(file))).toBe(true);
    await store.delete(['files/upload.bin', 'files/never-existed.bin']);
    expect(await store.get('files/upload.bin')).toBeNull();
  });

  it('refuses keys that climb out of the lake', async () => {
    await expect(store.put('../escape.json', 'x')).rejects.toThrow(/unsafe object key/);
  });

  it('answers a health ping', async () => {
    await expect(store.ping()).resolves.toBeUndefined();
  });

  if (kind === 's3') {
    it('sweeps partial downloads that dead processes left in its cache, and only those', async () => {
      const cache = join(dir, 'cache', s3!.bucket, 'lake', 'partials');
      mkdirSync(cache, { recursive: true });
      writeFileSync(join(cache, 'a.parquet.part-999999-0f3c'), 'half');
      writeFileSync(join(cache, `b.parquet.part-${process.ppid}-77aa`), 'in flight');
      writeFileSync(join(cache, 'c.parquet'), 'whole');
      expect(await (store as S3ObjectStore).sweepPartials()).toBe(1);
      expect(readdirSync(cache).sort()).toEqual([`b.parquet.part-${process.ppid}-77aa`, 'c.parquet']);
    });
  }
});

/** The local store's ping: a lake folder not created yet is fine, a place it cannot write is not. */
describe('LocalObjectStore.ping', () => {
  it('accepts a lake whose folder the first write will create, and refuses one it cannot reach', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fl-ping-'));
    try {
      await expect(new LocalObjectStore(join(dir, 'not-yet')).ping()).resolves.toBeUndefined();
      await expect(new LocalObjectStore(join(dir, 'missing-parent', 'lake')).ping()).rejects.toThrow(/ENOENT/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
