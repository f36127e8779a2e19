import { InMemoryObjectStore } from '../../test/support/fakes';
import { decode, DocumentStore, encode } from './document-store';

describe('DocumentStore', () => {
  it('round-trips documents, bigint microseconds included', async () => {
    const documents = new DocumentStore(new InMemoryObjectStore());
    const job = { id: 'j1', end: 1_767_225_600_000_000n, views: [{ start: null, rows: 3 }] };
    await documents.put('jobs/j1.json', job);
    expect(await documents.get('jobs/j1.json')).toEqual(job);
    expect(await documents.get('jobs/none.json')).toBeNull();
    expect(decode(encode({ big: 2n ** 70n }))).toEqual({ big: 2n ** 70n });
  });

  it('creates a document once: a second create of the same key is refused', async () => {
    const documents = new DocumentStore(new InMemoryObjectStore());
    expect(await documents.create('a/x.json', { n: 1 })).toBe(true);
    expect(await documents.create('a/x.json', { n: 2 })).toBe(false);
    expect(await documents.get('a/x.json')).toEqual({ n: 1 });
    expect(await documents.keys('a/')).toEqual(['a/x.json']);
  });

  it('reads a document again when a read races its replacement and returns a torn prefix', async () => {
    const objects = new InMemoryObjectStore();
    const documents = new DocumentStore(objects);
    await documents.put('jobs/j.json', { state: 'running', note: 'x'.repeat(50) });
    const whole = await objects.get('jobs/j.json');
    const get = objects.get.bind(objects);
    let reads = 0;
    objects.get = async (key: string) => (++reads === 1 ? whole!.subarray(0, 20) : get(key));
    expect(await documents.get('jobs/j.json')).toMatchObject({ state: 'running' });
    expect(reads).toBe(2);
  });

  it('names a document that stays damaged (LAKE_UNAVAILABLE) instead of returning garbage', async () => {
    const objects = new InMemoryObjectStore();
    await objects.put('jobs/bad.json', '{"state": "runn');
    await expect(new DocumentStore(objects).get('jobs/bad.json')).rejects.toMatchObject({ code: 'LAKE_UNAVAILABLE', message: expect.stringMatching(/jobs\/bad\.json is not a valid JSON document/) });
  });
});
