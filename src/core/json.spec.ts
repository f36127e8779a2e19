import { containsBigInt, stringifyJson } from './json';

describe('stringifyJson', () => {
  it('writes bigints as exact JSON numbers and everything else as JSON.stringify does', () => {
    const value = { big: 2n ** 63n - 1n, list: [1, 'a', null, undefined, true], nested: { s: 'q"uote', d: new Date(0) }, skip: undefined };
    const text = stringifyJson(value);
    expect(text).toBe('{"big":9223372036854775807,"list":[1,"a",null,null,true],"nested":{"s":"q\\"uote","d":"1970-01-01T00:00:00.000Z"}}');
    const { big, ...rest } = value;
    expect(JSON.parse(text)).toMatchObject(JSON.parse(JSON.stringify(rest)));
    expect(big).toBe(9223372036854775807n);
  });

  it('finds bigints anywhere in a tree', () => {
    expect(containsBigInt({ a: [{ b: 1n }] })).toBe(true);
    expect(containsBigInt({ a: [{ b: 1 }] })).toBe(false);
  });
});
