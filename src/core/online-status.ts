import { Micros, secondsToMicros } from './timestamp';

/** Feast's field statuses, with the same meaning. */
export type FieldStatus = 'PRESENT' | 'NOT_FOUND' | 'NULL_VALUE' | 'OUTSIDE_MAX_AGE';

/**
 * Status of one served value. A value older than now − ttl is OUTSIDE_MAX_AGE (and is not served
 * as a value: a client that ignores statuses must not use it as fresh); both ends inclusive.
 */
export function fieldStatus(
  eventTimestamp: Micros | null,
  value: unknown,
  ttlSeconds: number | null,
  now: Micros,
): FieldStatus {
  if (eventTimestamp === null) return 'NOT_FOUND';
  if (!isWithinTtl(eventTimestamp, now, ttlSeconds)) return 'OUTSIDE_MAX_AGE';
  return value === null ? 'NULL_VALUE' : 'PRESENT';
}

/** Feast's point-in-time rule for the lower end: `at − ttl ≤ rowTimestamp`. No ttl, no bound. */
export function isWithinTtl(rowTimestamp: Micros, at: Micros, ttlSeconds: number | null): boolean {
  return ttlSeconds === null || rowTimestamp >= at - secondsToMicros(ttlSeconds);
}
