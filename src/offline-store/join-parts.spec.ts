import { JoinKeyDef } from '../core/definitions';
import { inPartSql, keyedLikePart, partBuckets } from './join-parts';

const user: JoinKeyDef = { name: 'user_id', type: 'int64' };
const part = { index: 1, count: 4, keys: [user] };

describe('join parts', () => {
  it('reads only the buckets of the part when the count divides the bucket count', () => {
    expect(partBuckets([user], 16, part)).toEqual([1, 5, 9, 13]);
    expect(partBuckets([user], 4, part)).toEqual([1]);
  });

  it('reads every bucket when the view is keyed otherwise or the count does not divide', () => {
    expect(partBuckets([user], 6, part)).toBeNull();
    expect(partBuckets([{ name: 'user_id', type: 'string' }], 16, part)).toBeNull();
    expect(partBuckets([user, { name: 'item_id', type: 'int64' }], 16, part)).toBeNull();
    expect(keyedLikePart([{ name: 'driver_id', type: 'int64' }], part)).toBe(false);
  });

  it('hashes a row by the part keys as typed, like a view bucket', () => {
    expect(inPartSql(part, 's')).toBe('(hash(CAST(s."user_id" AS BIGINT)) % 4)::INTEGER = 1');
  });
});
