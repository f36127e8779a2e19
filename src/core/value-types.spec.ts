import { coerceJsonValue, toJsonValue } from './value-types';

describe('value coercion from JSON', () => {
  it.each([
    [1, 'int32', 1],
    [9007199254740991, 'int64', 9007199254740991n],
    ['9223372036854775807', 'int64', 9223372036854775807n],
    ['-42', 'int64', -42n],
    [1.5, 'float64', 1.5],
    ['ORD', 'string', 'ORD'],
    [false, 'bool', false],
    ['2001-01-01T00:00:00Z', 'timestamp', 978307200000000n],
    [null, 'int64', null],
  ] as const)('%j as %s', (raw, type, expected) => {
    expect(coerceJsonValue(raw, type)).toEqual({ ok: true, value: expected });
  });

  it.each([
    ['1', 'int32'],
    [1.5, 'int32'],
    [2 ** 31, 'int32'],
    [9007199254740993, 'int64'],
    ['9223372036854775808', 'int64'],
    ['1e3', 'int64'],
    ['1.5', 'float64'],
    [1, 'string'],
    ['true', 'bool'],
    ['noon', 'timestamp'],
  ] as const)('refuses %j as %s (no silent conversion)', (raw, type) => {
    expect(coerceJsonValue(raw, type).ok).toBe(false);
  });

  it('writes timestamps as RFC 3339 and non-finite floats as text', () => {
    expect(toJsonValue(978307200000000n, 'timestamp')).toBe('2001-01-01T00:00:00Z');
    expect(toJsonValue(Number.NaN, 'float64')).toBe('NaN');
    expect(toJsonValue(2n ** 60n, 'int64')).toBe(2n ** 60n);
  });
});
