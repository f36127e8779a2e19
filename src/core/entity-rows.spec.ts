import { JoinKeyDef } from './definitions';
import { parseEntityRows } from './entity-rows';

const keys: JoinKeyDef[] = [
  { name: 'driver_id', type: 'int64' },
  { name: 'city', type: 'string' },
];

describe('parseEntityRows', () => {
  it('types each column by its join key, keeping the request order of columns', () => {
    const rows = parseEntityRows({ city: ['a', null], driver_id: [1, '9007199254740993'] }, keys, { withTimestamps: false, maxRows: { max: 10, field: 'limits.max_online_rows' } });
    expect(rows.rowCount).toBe(2);
    expect(rows.columns.map((c) => [c.key.name, c.values])).toEqual([
      ['city', ['a', null]],
      ['driver_id', [1n, 9007199254740993n]],
    ]);
  });

  it('parses event timestamps when asked to', () => {
    const rows = parseEntityRows({ driver_id: [1], city: ['a'], event_timestamp: ['2001-01-01T00:00:00+01:00'] }, keys, { withTimestamps: true, maxRows: { max: 10, field: 'limits.max_online_rows' } });
    expect(rows.eventTimestamps).toEqual([978303600000000n]);
  });

  it('keeps other columns for a historical request, typed by their values', () => {
    const options = { withTimestamps: true, extraColumns: true, maxRows: { max: 10, field: 'limits.max_historical_rows' } };
    const at = ['2001-01-01T00:00:00Z', '2001-01-02T00:00:00Z'];
    const rows = parseEntityRows({ label: [1, null], driver_id: [1, 2], score: [0.5, 2], note: ['x', 'y'], ok: [true, false], city: ['a', 'b'], event_timestamp: at }, keys, options);
    expect(rows.columns.map((c) => c.key.name)).toEqual(['driver_id', 'city']);
    expect(rows.extras).toEqual([
      { name: 'label', type: 'int64', values: [1n, null] },
      { name: 'score', type: 'float64', values: [0.5, 2] },
      { name: 'note', type: 'string', values: ['x', 'y'] },
      { name: 'ok', type: 'bool', values: [true, false] },
    ]);
    expect(() => parseEntityRows({ driver_id: [1, 2], city: ['a', 'b'], event_timestamp: at, mixed: [1, 'one'] }, keys, options)).toThrow(
      expect.objectContaining({ code: 'INVALID_ENTITY_KEYS', message: expect.stringMatching(/entities\.mixed: the values of an extra column must all be/) }),
    );
  });

  it.each([
    [{}, 'INVALID_ENTITY_KEYS', /at least one/],
    [{ driver_id: [1] }, 'INVALID_ENTITY_KEYS', /entities\.city: missing/],
    [{ driver_id: [1], city: ['a'], zone: [1] }, 'INVALID_ENTITY_KEYS', /entities\.zone: not a join key/],
    [{ driver_id: [1, 2], city: ['a'] }, 'INVALID_ENTITY_KEYS', /city: has 1 values but driver_id has 2/],
    [{ driver_id: [], city: [] }, 'INVALID_ENTITY_KEYS', /no rows/],
    [{ driver_id: 1, city: ['a'] }, 'INVALID_ENTITY_KEYS', /must be an array/],
    [{ driver_id: [1, 'x'], city: ['a', 'b'] }, 'ENTITY_KEY_TYPE_MISMATCH', /entities\.driver_id\[1\]: expected a 64-bit integer/],
    [{ driver_id: [1, 2, 3], city: ['a', 'b', 'c'] }, 'ROW_LIMIT_EXCEEDED', /entities: 3 rows exceeds limits.max_online_rows \(2\)/],
  ])('refuses %j', (raw, code, message) => {
    expect(() => parseEntityRows(raw, keys, { withTimestamps: false, maxRows: { max: 2, field: 'limits.max_online_rows' } })).toThrow(expect.objectContaining({ code, message: expect.stringMatching(message) }));
  });

  it('names the row of a bad timestamp', () => {
    expect(() => parseEntityRows({ driver_id: [1, 2], city: ['a', 'b'], event_timestamp: ['2001-01-01', 5] }, keys, { withTimestamps: true, maxRows: { max: 10, field: 'limits.max_online_rows' } })).toThrow(
      /entities\.event_timestamp\[1\]/,
    );
  });
});
