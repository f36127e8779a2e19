import { jsonDepthExceeds } from './json-depth';

describe('jsonDepthExceeds', () => {
  it('counts nested arrays and objects', () => {
    expect(jsonDepthExceeds('{"a": [1, {"b": [2]}]}', 4)).toBe(false);
    expect(jsonDepthExceeds('{"a": [1, {"b": [2]}]}', 3)).toBe(true);
    expect(jsonDepthExceeds('['.repeat(100_000) + ']'.repeat(100_000), 32)).toBe(true);
  });

  it('ignores brackets inside strings, escaped quotes included', () => {
    expect(jsonDepthExceeds(JSON.stringify({ a: '[[[[{{{{', b: 'say \\"[[[[" ok' }), 1)).toBe(false);
  });

  it('is not fooled by depth that closes and reopens', () => {
    expect(jsonDepthExceeds('[[1],[2],[3],[4]]', 2)).toBe(false);
  });
});
