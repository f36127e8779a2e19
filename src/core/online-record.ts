import { Micros } from './timestamp';
import { Value, ValueType } from './value-types';

/** The latest row of one feature view for one entity, as the online store holds it. */
export interface OnlineRecord {
  entityKey: string;
  eventTimestamp: Micros;
  createdTimestamp: Micros | null;
  /** In the order of the view's features. */
  values: Value[];
}

const BIAS = 2n ** 63n;
/** Length of the ordering prefix: biased event time, then biased created time, 16 hex digits each. */
export const ORDER_PREFIX_LENGTH = 32;

/**
 * Text form of a record's version: comparing two prefixes as strings orders the records by event
 * time, then created time (a missing created time is the oldest). Online stores compare prefixes
 * to refuse writes that would replace a newer value with an older one.
 */
export function orderPrefix(eventTimestamp: Micros, createdTimestamp: Micros | null): string {
  const created = createdTimestamp === null ? 0n : createdTimestamp + BIAS;
  return hex16(eventTimestamp + BIAS) + hex16(created);
}

function hex16(value: bigint): string {
  return value.toString(16).padStart(16, '0');
}

/** Serialises a record as `<order prefix><JSON array of values>`; int64 and timestamps as digit strings. */
export function encodeRecord(record: OnlineRecord): string {
  const values = record.values.map((v) =>
    typeof v === 'bigint' ? v.toString() : typeof v === 'number' && !Number.isFinite(v) ? String(v) : v,
  );
  return orderPrefix(record.eventTimestamp, record.createdTimestamp) + JSON.stringify(values);
}

export function decodeRecord(entityKey: string, text: string, types: readonly ValueType[]): OnlineRecord {
  const eventTimestamp = BigInt('0x' + text.slice(0, 16)) - BIAS;
  const createdRaw = BigInt('0x' + text.slice(16, ORDER_PREFIX_LENGTH));
  const raw = JSON.parse(text.slice(ORDER_PREFIX_LENGTH)) as (string | number | boolean | null)[];
  return {
    entityKey,
    eventTimestamp,
    createdTimestamp: createdRaw === 0n ? null : createdRaw - BIAS,
    values: types.map((type, i) => decodeValue(raw[i] ?? null, type)),
  };
}

function decodeValue(raw: string | number | boolean | null, type: ValueType): Value {
  if (raw === null) return null;
  if (type === 'int64' || type === 'timestamp') return BigInt(raw as string);
  if ((type === 'float32' || type === 'float64') && typeof raw === 'string') return Number(raw);
  return raw;
}

/**
 * When a stored record may be dropped, in epoch milliseconds (0: never). A value stops being
 * served at event time + ttl (OUTSIDE_MAX_AGE); it is kept one more ttl so that clients see that
 * status rather than NOT_FOUND right away, then expires, so stale keys do not pile up.
 */
export function expiresAtMs(record: Pick<OnlineRecord, 'eventTimestamp'>, ttlSeconds: number | null): number {
  if (ttlSeconds === null) return 0;
  return Number(record.eventTimestamp / 1000n) + 2 * ttlSeconds * 1000;
}
