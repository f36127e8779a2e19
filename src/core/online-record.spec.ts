import { decodeRecord, encodeRecord, orderPrefix, OnlineRecord } from './online-record';
import { ValueType } from './value-types';

describe('online record encoding', () => {
  const types: ValueType[] = ['int32', 'int64', 'float32', 'float64', 'string', 'bool', 'timestamp'];

  it('round-trips every type, nulls and non-finite floats', () => {
    const record: OnlineRecord = {
      entityKey: '"ORD"',
      eventTimestamp: 978307200000000n,
      createdTimestamp: -5n,
      values: [-7, 2n ** 62n + 1n, Number.POSITIVE_INFINITY, 0.1, 'Zoë', true, 1n],
    };
    expect(decodeRecord('"ORD"', encodeRecord(record), types)).toEqual(record);
    const empty = { ...record, createdTimestamp: null, values: types.map(() => null) };
    expect(decodeRecord('"ORD"', encodeRecord(empty), types)).toEqual(empty);
  });

  it('orders prefixes by event time, then created time, with a missing created time oldest', () => {
    const ordered = [
      orderPrefix(-1000n, null),
      orderPrefix(-1000n, 5n),
      orderPrefix(0n, null),
      orderPrefix(0n, -10n),
      orderPrefix(0n, 10n),
      orderPrefix(1n, null),
      orderPrefix(2n ** 62n, 0n),
    ];
    expect([...ordered].sort()).toEqual(ordered);
  });
});
