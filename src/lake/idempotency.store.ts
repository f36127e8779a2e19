import { Injectable } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { DocumentStore } from '../storage/document-store';

/**
 * What the lake remembers of a request sent with an `Idempotency-Key`: `pending` while it is
 * applied (with the data files its commit will hold, so a retry can tell whether the commit
 * happened before a crash), then `done` with the answer a retry gets again.
 */
export interface IdempotencyRecord {
  state: 'pending' | 'done';
  /** sha256 of the request: the same key with another request is refused. */
  requestHash: string;
  createdAt: string;
  /** Lake objects the request's snapshot commits (pending only). */
  stagedKeys?: string[];
  response?: unknown;
}

/** Keys are remembered this long; an older record is treated as absent (as Stripe's and most APIs' are). */
export const IDEMPOTENCY_TTL_MS = 24 * 3600 * 1000;

/**
 * Idempotency records in the lake (`idempotency/<scope>/<sha256>.json`), so that every replica
 * and worker sees the same ones. The first request with a key creates its record create-only:
 * of two concurrent requests with one key, exactly one goes ahead.
 */
@Injectable()
export class IdempotencyStore {
  constructor(private readonly documents: DocumentStore) {}

  async get(scope: string, key: string): Promise<IdempotencyRecord | null> {
    const record = await this.documents.get<IdempotencyRecord>(this.objectKey(scope, key));
    return record && Date.now() - Date.parse(record.createdAt) > IDEMPOTENCY_TTL_MS ? null : record;
  }

  /** Creates the record; false when one exists already (another request holds the key). */
  async begin(scope: string, key: string, record: IdempotencyRecord): Promise<boolean> {
    return this.documents.create(this.objectKey(scope, key), record);
  }

  /** Replaces the record (its owner finishing, or taking over one that was abandoned or expired). */
  async put(scope: string, key: string, record: IdempotencyRecord): Promise<void> {
    await this.documents.put(this.objectKey(scope, key), record);
  }

  async remove(scope: string, key: string): Promise<void> {
    await this.documents.delete([this.objectKey(scope, key)]);
  }

  private objectKey(scope: string, key: string): string {
    return `idempotency/${scope}/${createHash('sha256').update(key).digest('hex')}.json`;
  }
}
