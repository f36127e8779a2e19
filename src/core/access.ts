/**
 * Who may do what. Roles are ordered: a writer can do what a reader can, an admin everything,
 * so a route names the least role it needs.
 */
export const ROLES = ['reader', 'writer', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}

export function roleAllows(has: Role, needs: Role): boolean {
  return ROLES.indexOf(has) >= ROLES.indexOf(needs);
}

/** A configured API key: only its SHA-256 digest is ever stored or configured. */
export interface ApiKeyDef {
  name: string;
  role: Role;
  /** 64 hex digits. */
  sha256: string;
}

const SHA256_HEX = /^[0-9a-f]{64}$/;

export function isSha256Hex(value: unknown): value is string {
  return typeof value === 'string' && SHA256_HEX.test(value);
}

/**
 * Parses `FEATURELAKE_API_KEYS`: comma-separated `name:role:sha256hex` entries. Returns the keys
 * and a message per bad entry; the message never repeats a digest (a typo might be a real one).
 */
export function parseApiKeyList(text: string): { keys: ApiKeyDef[]; problems: string[] } {
  const keys: ApiKeyDef[] = [];
  const problems: string[] = [];
  text
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '')
    .forEach((entry, index) => {
      const [name, role, sha256, ...rest] = entry.split(':');
      if (rest.length > 0 || !name || !isRole(role) || !isSha256Hex(sha256?.toLowerCase())) {
        problems.push(`entry ${index + 1} (${JSON.stringify(name ?? '')}) must be NAME:ROLE:SHA256 with ROLE one of ${ROLES.join(', ')} and SHA256 64 hex digits`);
        return;
      }
      keys.push({ name, role, sha256: sha256.toLowerCase() });
    });
  return { keys, problems };
}
