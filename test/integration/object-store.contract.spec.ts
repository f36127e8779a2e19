import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalObjectStore } from '../../src/lake/local.object-store';
import { ObjectStore } from '../../src/lake/object-store';
import { S3ObjectStore } from '../../src/lake/s3.object-store';
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
});
