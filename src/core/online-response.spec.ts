import { stringifyJson } from './json';
import { floatJson, onlineResponseJson, OnlineFeaturesResponse } from './online-response';

describe('onlineResponseJson', () => {
  it('writes exactly what the generic JSON writer writes, int64 digits and text escapes included', () => {
    const response: OnlineFeaturesResponse = {
      metadata: { feature_names: ['user_id', 'rating', 'name', 'active', 'big'] },
      results: [
        { values: [1n, 2n], statuses: ['PRESENT', 'PRESENT'], event_timestamps: ['1970-01-01T00:00:00Z', '1970-01-01T00:00:00Z'] },
        { values: [0.1, null], statuses: ['PRESENT', 'NOT_FOUND'], event_timestamps: ['2026-01-01T00:00:00.5Z', '1970-01-01T00:00:00Z'] },
        { values: ['Zoë "q"\n', 'NaN'], statuses: ['PRESENT', 'PRESENT'], event_timestamps: ['2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z'] },
        { values: [true, false], statuses: ['PRESENT', 'PRESENT'], event_timestamps: ['2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z'] },
        { values: [9223372036854775807n, -1e21], statuses: ['PRESENT', 'OUTSIDE_MAX_AGE'], event_timestamps: ['2026-01-01T00:00:00Z', '2020-01-01T00:00:00Z'] },
      ],
    };
    expect(onlineResponseJson(response)).toBe(stringifyJson(response));
    expect(onlineResponseJson(response)).toContain('"values":[9223372036854775807,-1e+21]');
  });
});

describe('floatJson', () => {
  it.each([
    [12, '12.0'],
    [-3, '-3.0'],
    [0, '0.0'],
    [0.25, '0.25'],
    [1e20, '1e+20'],
    [-1e21, '-1e+21'],
    [2 ** 53, '9007199254740992.0'],
    [1e-7, '1e-7'],
    [Number.NaN, '"NaN"'],
  ])('writes %p as %s', (value, text) => {
    expect(floatJson(value)).toBe(text);
  });
});
