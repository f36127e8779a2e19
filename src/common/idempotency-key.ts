import { ValidationFailedError } from './errors';

/** An `Idempotency-Key` header: absent, or 1–255 visible ASCII characters (a UUID is typical). */
export function parseIdempotencyKey(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  if (!/^[\x21-\x7e]{1,255}$/.test(header)) {
    throw new ValidationFailedError('Idempotency-Key: must be 1 to 255 visible ASCII characters (a UUID, say)', { field: 'Idempotency-Key' });
  }
  return header;
}
