import { FieldReader } from '../common/field-reader';
import { parseDurationSeconds } from '../core/duration';
import { Retention } from '../core/retention';

/** `retention: { keep_snapshots: 20, keep_for: 30d }` of a dataset or a feature service's `logging:`; problems are recorded at their field. */
export function readRetention(parent: FieldReader): Retention | undefined {
  const at = parent.object('retention');
  if (!at) return undefined;
  at.rejectUnknown(['keep_snapshots', 'keep_for']);
  const retention: Retention = {};
  const count = at.value.keep_snapshots;
  if (count !== undefined && count !== null) {
    if (!Number.isInteger(count) || (count as number) < 1) at.issue(`must be a whole number of snapshots, 1 or more, got ${JSON.stringify(count)}`, 'keep_snapshots');
    else retention.keepSnapshots = count as number;
  }
  const text = at.scalarText('keep_for');
  if (text !== undefined) {
    const seconds = parseDurationSeconds(text);
    if (seconds === null) at.issue(`invalid duration ${JSON.stringify(text)} (a whole number followed by s, m, h, d or w, e.g. 30d)`, 'keep_for');
    else retention.keepForSeconds = seconds;
  }
  if (!at.has('keep_snapshots') && !at.has('keep_for')) at.issue('declares neither keep_snapshots nor keep_for');
  return retention;
}
