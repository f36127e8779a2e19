import { JoinKeyDef } from '../core/definitions';
import { JoinPart } from './offline-store';
import { keyBucketOf } from './view-sql';

/** The spine's part as a temp table beside the whole spine. */
export const SPINE_PART = 'spine_part';

/** Whether rows with `keys` hash into a part by the part's own keys (same names and types, in order). */
export function keyedLikePart(keys: JoinKeyDef[], part: JoinPart): boolean {
  return keys.length === part.keys.length && keys.every((k, i) => k.name === part.keys[i].name && k.type === part.keys[i].type);
}

/** A predicate: the row (under `alias`) falls in the part. Only for rows keyed like the part. */
export function inPartSql(part: JoinPart, alias = ''): string {
  return `${keyBucketOf(part.keys, part.count, alias)} = ${part.index}`;
}

/**
 * The buckets of a view's files that hold the part's rows, when the view is keyed like the part
 * and `count` divides its bucket count (hash % buckets % count = hash % count); null otherwise
 * (every bucket may hold rows of the part).
 */
export function partBuckets(keys: JoinKeyDef[], buckets: number, part: JoinPart): number[] | null {
  if (!keyedLikePart(keys, part) || buckets % part.count !== 0) return null;
  return Array.from({ length: buckets / part.count }, (_, i) => i * part.count + part.index);
}
