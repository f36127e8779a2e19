import fc from 'fast-check';
import { Readable } from 'node:stream';
import { JsonShapeCounter, readJsonBody } from './json-body';
import { parseSliced } from './sliced-json';

const LIMITS = { maxBytes: 1 << 20, maxElements: 1000, maxDepth: 32 };
const counted = (text: string, limits: { maxElements: number; maxDepth: number } = LIMITS) => new JsonShapeCounter(limits).feed(Buffer.from(text));
const body = (chunks: (string | Buffer)[]) => Readable.from(chunks.map((c) => (typeof c === 'string' ? Buffer.from(c) : c)));

describe('JsonShapeCounter', () => {
  it('counts nested arrays and objects, outside strings', () => {
    expect(() => counted('{"a": [1, {"b": [2]}]}', { maxElements: 100, maxDepth: 4 })).not.toThrow();
    expect(() => counted('{"a": [1, {"b": [2]}]}', { maxElements: 100, maxDepth: 3 })).toThrow(/deeper than 3 levels/);
    expect(() => counted('['.repeat(100_000) + ']'.repeat(100_000))).toThrow(expect.objectContaining({ code: 'MALFORMED_JSON' }));
    expect(() => counted(JSON.stringify({ a: '[[[[{{{{,,,,', b: 'say \\"[[[[" ok' }), { maxElements: 3, maxDepth: 1 })).not.toThrow();
    expect(() => counted('[[1],[2],[3],[4]]', { maxElements: 100, maxDepth: 2 })).not.toThrow();
  });

  it('refuses too many values, naming limits.max_json_elements, however the body is split', () => {
    const text = `[${Array(1001).fill('{}').join(',')}]`;
    const counter = new JsonShapeCounter(LIMITS);
    const feed = () => {
      for (let i = 0; i < text.length; i += 7) counter.feed(Buffer.from(text.slice(i, i + 7)));
    };
    expect(feed).toThrow(expect.objectContaining({ code: 'JSON_LIMIT_EXCEEDED', status: 413, details: { limit: 'limits.max_json_elements', max: 1000 } }));
    expect(() => counted(`[${Array(990).fill(1).join(',')}]`)).not.toThrow();
  });

  it('keeps its place in a string split across chunks (escapes included)', () => {
    const counter = new JsonShapeCounter({ maxElements: 10, maxDepth: 2 });
    for (const piece of ['["a\\', '"[[[,,,', ',,,,,,,,,"', ',1]']) counter.feed(Buffer.from(piece));
  });
});

describe('parseSliced', () => {
  it('builds exactly what JSON.parse builds, for any JSON text', async () => {
    await fc.assert(
      fc.asyncProperty(fc.json({ depthSize: 'medium' }), async (text) => {
        expect(await parseSliced(text, 1000)).toEqual(JSON.parse(text));
      }),
      { numRuns: 400 },
    );
  });

  it('refuses what JSON.parse refuses', async () => {
    const samples = ['', ' ', '[1,]', '{"a":1,}', '[1 2]', '{"a" 1}', '{a:1}', '01', '1.', '-', '.5', '1e', 'tru', 'nul', '"\u0001"', '"\\x"', '[', '{"a":', '"abc', '[1]]', 'true false', "'a'", '{"a":1 "b":2}', '[,1]', '{,}'];
    for (const text of samples) {
      expect(() => JSON.parse(text)).toThrow();
      await expect(parseSliced(text, 1000)).rejects.toThrow();
    }
  });

  it('agrees with JSON.parse on mangled JSON (accepts the same texts, with the same values)', async () => {
    const mangled = fc.tuple(fc.json(), fc.nat(), fc.constantFrom('', ',', ']', '}', '"', ':', '\\', '[', '{', ' ', '0', '-'), fc.boolean()).map(([text, at, insert, drop]) => {
      const i = at % (text.length + 1);
      return text.slice(0, i) + insert + text.slice(drop ? i + 1 : i);
    });
    await fc.assert(
      fc.asyncProperty(mangled, async (text) => {
        let expected: unknown;
        try {
          expected = JSON.parse(text);
        } catch {
          await expect(parseSliced(text, 1000)).rejects.toThrow();
          return;
        }
        expect(await parseSliced(text, 1000)).toEqual(expected);
      }),
      { numRuns: 1000 },
    );
  });

  it('makes __proto__ an own property, never the prototype', async () => {
    const value = (await parseSliced('{"__proto__": {"polluted": true}, "a": 1}', 32)) as Record<string, unknown>;
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
    expect(Object.keys(value)).toEqual(['__proto__', 'a']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('gives the event loop back while it parses a large text', async () => {
    const text = JSON.stringify({ entities: { id: Array.from({ length: 300_000 }, (_, i) => `user-${i}`) } });
    let turns = 0;
    const ticker = setInterval(() => turns++, 0);
    const value = (await parseSliced(text, 32, 2)) as { entities: { id: string[] } };
    clearInterval(ticker);
    expect(value.entities.id).toHaveLength(300_000);
    expect(turns).toBeGreaterThan(1);
  });
});

describe('readJsonBody', () => {
  it('parses small and large bodies, split anywhere, as JSON.parse does', async () => {
    expect(await readJsonBody(body(['{"a": [1, ', '2, "x"]}']), LIMITS)).toEqual({ a: [1, 2, 'x'] });
    const large = JSON.stringify({ values: Array.from({ length: 900 }, (_, i) => 'v'.repeat(100) + i) });
    const pieces = large.match(/[^]{1,1000}/g)!;
    expect(await readJsonBody(body(pieces), LIMITS)).toEqual(JSON.parse(large));
    expect(await readJsonBody(body([]), LIMITS)).toBeUndefined();
  });

  it('decodes UTF-8 split between chunks, and refuses invalid UTF-8', async () => {
    const bytes = Buffer.from('{"city":"Zürich ✈"}');
    const cut = bytes.indexOf(0xc3) + 1;
    expect(await readJsonBody(body([bytes.subarray(0, cut), bytes.subarray(cut)]), LIMITS)).toEqual({ city: 'Zürich ✈' });
    await expect(readJsonBody(body([Buffer.from([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d])]), LIMITS)).rejects.toMatchObject({ code: 'MALFORMED_JSON', message: /not valid UTF-8/ });
  });

  it('refuses past the byte limit (declared or counted) and malformed text', async () => {
    await expect(readJsonBody(body(['[1]']), LIMITS, 2 << 20)).rejects.toMatchObject({ code: 'PAYLOAD_TOO_LARGE', details: { limit: 'limits.max_json_bytes' } });
    await expect(readJsonBody(body(['["', 'x'.repeat(1 << 20), '"]']), LIMITS)).rejects.toMatchObject({ code: 'PAYLOAD_TOO_LARGE' });
    await expect(readJsonBody(body(['{"a":']), LIMITS)).rejects.toMatchObject({ code: 'MALFORMED_JSON', message: /not valid JSON/ });
  });

  it('checks small bodies of a known length (gathered whole, the serving path) the same way', async () => {
    const sized = (text: string | Buffer) => readJsonBody(body([text]), LIMITS, Buffer.byteLength(text));
    expect(await sized('{"a": [1, 2]}')).toEqual({ a: [1, 2] });
    expect(await sized('')).toBeUndefined();
    await expect(sized(`[${Array(1001).fill(0).join(',')}]`)).rejects.toMatchObject({ code: 'JSON_LIMIT_EXCEEDED' });
    await expect(sized('['.repeat(40) + ']'.repeat(40))).rejects.toMatchObject({ code: 'MALFORMED_JSON', message: /deeper than 32/ });
    await expect(sized(Buffer.from([0x22, 0xff, 0x22]))).rejects.toMatchObject({ code: 'MALFORMED_JSON', message: /not valid UTF-8/ });
    await expect(sized('{"a":')).rejects.toMatchObject({ code: 'MALFORMED_JSON', message: /not valid JSON/ });
  });

  it('stops reading at the value limit, leaving the rest of the body unread', async () => {
    let served = 0;
    const endless = new Readable({
      read() {
        served++;
        this.push(Buffer.from(served === 1 ? '[' : '{},'.repeat(6000)));
      },
    });
    await expect(readJsonBody(endless, LIMITS)).rejects.toMatchObject({ code: 'JSON_LIMIT_EXCEEDED' });
    expect(served).toBeLessThan(5);
  });
});
