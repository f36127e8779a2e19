import { formatTimestamp, parseTimestamp, requireTimestamp } from './timestamp';

describe('timestamps', () => {
  it.each([
    ['2001-03-01', '2001-03-01T00:00:00Z'],
    ['2001-03-01T10:20', '2001-03-01T10:20:00Z'],
    ['2001-03-01T10:20:30', '2001-03-01T10:20:30Z'],
    ['2001-03-01 10:20:30', '2001-03-01T10:20:30Z'],
    ['2001-03-01T10:20:30Z', '2001-03-01T10:20:30Z'],
    ['2001-03-01T10:20:30.5Z', '2001-03-01T10:20:30.500Z'],
    ['2001-03-01T10:20:30.12Z', '2001-03-01T10:20:30.120Z'],
    ['2001-03-01T10:20:30.1234Z', '2001-03-01T10:20:30.123400Z'],
    ['2001-03-01T10:20:30.000001Z', '2001-03-01T10:20:30.000001Z'],
    ['2001-03-01T10:20:30.123456789Z', '2001-03-01T10:20:30.123456Z'],
    ['2001-03-01T12:20:30+02:00', '2001-03-01T10:20:30Z'],
    ['2001-03-01T05:20:30-0500', '2001-03-01T10:20:30Z'],
    ['2001-03-01T10:20:30+05', '2001-03-01T05:20:30Z'],
    ['0001-01-01T00:00:00Z', '0001-01-01T00:00:00Z'],
    ['1969-12-31T23:59:59.999999Z', '1969-12-31T23:59:59.999999Z'],
  ])('reads %s as %s (UTC when no offset)', (text, expected) => {
    expect(formatTimestamp(parseTimestamp(text)!)).toBe(expected);
  });

  it.each(['', 'yesterday', '2001-02-30', '2001-13-01', '2001-03-01T24:00:00', '2001-03-01T10:61', '20010301', '2001-03-01T10:00:00+2'])(
    'refuses %j',
    (text) => expect(parseTimestamp(text)).toBeNull(),
  );

  it('keeps microseconds exactly, before and after 1970', () => {
    expect(parseTimestamp('1970-01-01T00:00:00.000001Z')).toBe(1n);
    expect(parseTimestamp('1969-12-31T23:59:59.999999Z')).toBe(-1n);
  });

  it('names the field in its error', () => {
    expect(() => requireTimestamp('soon', 'end_ts')).toThrow(expect.objectContaining({ code: 'INVALID_TIMESTAMP', message: expect.stringMatching(/^end_ts: "soon"/) }));
  });
});
