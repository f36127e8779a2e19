import { createHash, timingSafeEqual } from 'node:crypto';
import { ApiKeyDef, Role } from '../core/access';

/** The caller a request was authenticated as. */
export interface Principal {
  name: string;
  role: Role;
}

export type Authentication = { ok: true; principal: Principal } | { ok: false; reason: 'missing' | 'invalid' };

export function sha256Hex(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

/**
 * Checks a presented API key against the configured SHA-256 digests. Keys are long random tokens
 * (`featurelake keys create`), so a fast hash is enough — there is no password to stretch — and
 * a leaked config holds nothing that opens the API. The presented key is hashed and compared with
 * every digest in constant time, without stopping at a match, so timing tells nothing about
 * which key or how much of it matched.
 */
export class ApiKeyAuthenticator {
  private readonly digests: { key: ApiKeyDef; digest: Buffer }[];

  constructor(keys: ApiKeyDef[]) {
    this.digests = keys.map((key) => ({ key, digest: Buffer.from(key.sha256, 'hex') }));
  }

  /** Auth is off while no key is configured: the embedded local setup needs none. */
  get enabled(): boolean {
    return this.digests.length > 0;
  }

  authenticate(presented: string | undefined): Authentication {
    if (!presented) return { ok: false, reason: 'missing' };
    const digest = createHash('sha256').update(presented, 'utf8').digest();
    let found: ApiKeyDef | undefined;
    for (const candidate of this.digests) {
      if (timingSafeEqual(candidate.digest, digest) && !found) found = candidate.key;
    }
    return found ? { ok: true, principal: { name: found.name, role: found.role } } : { ok: false, reason: 'invalid' };
  }
}

/** The key from `Authorization: Bearer KEY` or `X-API-Key: KEY`. */
export function presentedKey(headers: Record<string, string | string[] | undefined>): string | undefined {
  const authorization = headers.authorization;
  if (typeof authorization === 'string') {
    const bearer = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    return bearer ? bearer[1] : authorization.trim() || undefined;
  }
  const header = headers['x-api-key'];
  return typeof header === 'string' && header.trim() !== '' ? header.trim() : undefined;
}
