import { formatDuration, parseDurationSeconds } from './duration';

describe('durations', () => {
  it.each([
    ['90s', 90],
    ['15m', 900],
    ['2h', 7200],
    ['2d', 172800],
    ['1w', 604800],
    [' 3 d ', 259200],
    ['0s', 0],
  ])('%s is %i seconds', (text, seconds) => expect(parseDurationSeconds(text)).toBe(seconds));

  it.each(['2', '2x', '-1d', '1.5h', 'd', '', '2 days'])('refuses %j', (text) => expect(parseDurationSeconds(text)).toBeNull());

  it('formats with the largest exact unit', () => {
    expect([172800, 7200, 90, 1209600, 61].map(formatDuration)).toEqual(['2d', '2h', '90s', '2w', '61s']);
  });
});
