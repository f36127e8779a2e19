import { encodeEntityKey } from './entity-key';

describe('encodeEntityKey', () => {
  it('is exact for big integers and unambiguous for strings that hold separators', () => {
    expect(encodeEntityKey([2n ** 63n - 1n])).toBe('9223372036854775807');
    expect(encodeEntityKey(['a,b', 'c'])).not.toBe(encodeEntityKey(['a', 'b,c']));
    expect(encodeEntityKey(['ORD', 7])).toBe('"ORD",7');
  });

  it('has no key when any part is null', () => {
    expect(encodeEntityKey(['ORD', null])).toBeNull();
  });
});
