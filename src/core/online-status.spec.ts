import { fieldStatus } from './online-status';

describe('field status', () => {
  const now = 1_000_000_000n;
  const hour = 3600;

  it('is NOT_FOUND without a row, OUTSIDE_MAX_AGE past the ttl, NULL_VALUE for null, else PRESENT', () => {
    expect(fieldStatus(null, null, hour, now)).toBe('NOT_FOUND');
    expect(fieldStatus(now - 3_600_000_001n, 1, hour, now)).toBe('OUTSIDE_MAX_AGE');
    expect(fieldStatus(now - 3_600_000_001n, null, hour, now)).toBe('OUTSIDE_MAX_AGE');
    expect(fieldStatus(now - 3_600_000_000n, 1, hour, now)).toBe('PRESENT'); // exactly ttl old: inclusive
    expect(fieldStatus(now, null, hour, now)).toBe('NULL_VALUE');
  });

  it('never expires values of a view without ttl', () => {
    expect(fieldStatus(-(10n ** 15n), 1, null, now)).toBe('PRESENT');
  });
});
