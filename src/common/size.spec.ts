import { formatSize, parseSize } from './size';

describe('sizes', () => {
  it.each([
    ['1GB', 1e9],
    ['512MB', 512e6],
    ['8GiB', 8 * 2 ** 30],
    ['1.5 MiB', 1.5 * 2 ** 20],
    ['4096', 4096],
    [2048, 2048],
  ])('reads %p as %p bytes', (text, bytes) => expect(parseSize(text)).toBe(bytes));

  it.each(['', 'lots', '1XB', '-5MB', '0', 0, -1, Infinity])('refuses %p', (text) => expect(parseSize(text)).toBeNull());

  it('formats sizes with binary units', () => {
    expect([formatSize(100), formatSize(2 ** 20), formatSize(1.5 * 2 ** 30)]).toEqual(['100 bytes', '1 MiB', '1.5 GiB']);
  });
});
