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
});
