import { ValidationFailedError } from '../../common/errors';
import { parseDurationSeconds } from '../duration';
import { isIdentifier } from '../identifiers';
import { Micros, MICROS_PER_SECOND, parseTimestamp } from '../timestamp';

export const CHECK_KINDS = ['consistency', 'distribution', 'schema'] as const;
export type CheckKind = (typeof CHECK_KINDS)[number];

/** A time window: explicit bounds, or the last `lastSeconds` before `end` (default: when the check runs). */
export interface WindowSpec {
  start?: Micros;
  end?: Micros;
  lastSeconds?: number;
}

/** One side of a comparison: where its rows come from. */
export type SideSpec =
  | { kind: 'training_set'; name: string }
  | { kind: 'serving_logs'; featureService: string; window: WindowSpec }
  | { kind: 'dataset'; name: string; snapshotId?: number }
  | { kind: 'feature_view'; name: string; window: WindowSpec };

export const SIDE_KINDS = ['training_set', 'serving_logs', 'dataset', 'feature_view'] as const;

/** A skew check request: `POST /skew-checks`, `featurelake skew`, and `skew_checks:` in the feature repo. */
export interface SkewSpec {
  name?: string;
  reference?: SideSpec;
  current: SideSpec;
  checks: CheckKind[];
  /** Only these features (`view:feature`, or a dataset's column names); default all on both sides. */
  features?: string[];
  /** Consistency: a feature fails when more than this share of logged rows disagree with offline. */
  consistencyThreshold: number;
  /** Distribution: the dataset drifts when at least this share of features drift (Evidently's default 0.5). */
  driftShare: number;
  /** Schema: a feature's null rate may move this much between the sides. */
  nullRateThreshold: number;
  webhook?: string;
}

const FIELDS = ['name', 'reference', 'current', 'checks', 'features', 'consistency_threshold', 'drift_share', 'null_rate_threshold', 'webhook'];

/** Reads a skew check request; every problem names its field (prefixed with `at`). */
export function parseSkewSpec(raw: unknown, at = ''): SkewSpec {
  const body = object(raw, at || 'body', FIELDS, at);
  const reference = body.reference === undefined ? undefined : parseSide(body.reference, path(at, 'reference'));
  const current = parseSide(required(body.current, path(at, 'current')), path(at, 'current'));
  const checks = body.checks === undefined ? defaultChecks(reference, current) : parseChecks(body.checks, path(at, 'checks'));
  if (checks.includes('consistency') && current.kind !== 'serving_logs') {
    fail(path(at, 'checks'), 'consistency compares served values with offline ones: current must be serving_logs');
  }
  if (!reference && checks.some((c) => c !== 'consistency')) fail(path(at, 'reference'), 'is required for distribution and schema checks');
  if (checks.length === 0) fail(path(at, 'reference'), 'is required: without one, only serving_logs can be checked (for consistency)');
  const name = body.name === undefined ? undefined : identifier(body.name, path(at, 'name'));
  const webhook = body.webhook === undefined ? undefined : text(body.webhook, path(at, 'webhook'));
  if (webhook !== undefined && !/^https?:\/\/\S+$/.test(webhook)) fail(path(at, 'webhook'), 'must be an http(s) URL');
  return {
    name,
    reference,
    current,
    checks,
    features: body.features === undefined ? undefined : stringList(body.features, path(at, 'features')),
    consistencyThreshold: share(body.consistency_threshold, path(at, 'consistency_threshold'), 0.01),
    driftShare: share(body.drift_share, path(at, 'drift_share'), 0.5),
    nullRateThreshold: share(body.null_rate_threshold, path(at, 'null_rate_threshold'), 0.1),
    webhook,
  };
}

/** What a request without `checks` runs: everything its sides allow. */
function defaultChecks(reference: SideSpec | undefined, current: SideSpec): CheckKind[] {
  return [...(current.kind === 'serving_logs' ? (['consistency'] as const) : []), ...(reference ? (['distribution', 'schema'] as const) : [])];
}

function parseChecks(raw: unknown, field: string): CheckKind[] {
  const list = stringList(raw, field);
  if (list.length === 0) fail(field, 'must name at least one check');
  list.forEach((c, i) => {
    if (!(CHECK_KINDS as readonly string[]).includes(c)) fail(`${field}[${i}]`, `must be one of ${CHECK_KINDS.join(', ')}`);
  });
  return [...new Set(list)] as CheckKind[];
}

/** `{ training_set: NAME }`, `{ serving_logs: { feature_service, … } }`, `{ dataset: NAME | { name, snapshot_id } }`, `{ feature_view: { name, … } }`. */
export function parseSide(raw: unknown, field: string): SideSpec {
  const side = object(raw, field, null, field);
  const kinds = Object.keys(side);
  if (kinds.length !== 1 || !(SIDE_KINDS as readonly string[]).includes(kinds[0])) {
    fail(field, `must have exactly one of ${SIDE_KINDS.join(', ')}`);
  }
  const kind = kinds[0] as SideSpec['kind'];
  const value = side[kind];
  const at = `${field}.${kind}`;
  switch (kind) {
    case 'training_set':
      return { kind, name: identifier(typeof value === 'object' && value !== null ? (value as { name?: unknown }).name : value, at) };
    case 'dataset': {
      if (typeof value === 'string') return { kind, name: identifier(value, at) };
      const d = object(value, at, ['name', 'snapshot_id'], at);
      const snapshotId = d.snapshot_id;
      if (snapshotId !== undefined && !(Number.isInteger(snapshotId) && (snapshotId as number) > 0)) fail(`${at}.snapshot_id`, 'must be a positive whole number');
      return { kind, name: identifier(required(d.name, `${at}.name`), `${at}.name`), snapshotId: snapshotId as number | undefined };
    }
    case 'serving_logs': {
      const s = object(value, at, ['feature_service', 'start', 'end', 'last'], at);
      return { kind, featureService: identifier(required(s.feature_service, `${at}.feature_service`), `${at}.feature_service`), window: parseWindow(s, at) };
    }
    case 'feature_view': {
      const v = object(value, at, ['name', 'start', 'end', 'last'], at);
      return { kind, name: identifier(required(v.name, `${at}.name`), `${at}.name`), window: parseWindow(v, at) };
    }
  }
}

function parseWindow(raw: Record<string, unknown>, at: string): WindowSpec {
  const start = raw.start === undefined ? undefined : timestamp(raw.start, `${at}.start`);
  const end = raw.end === undefined ? undefined : timestamp(raw.end, `${at}.end`);
  let lastSeconds: number | undefined;
  if (raw.last !== undefined) {
    const seconds = typeof raw.last === 'string' ? parseDurationSeconds(raw.last) : null;
    if (!seconds) fail(`${at}.last`, 'must be a duration such as 30m, 1h or 7d');
    if (start !== undefined) fail(`${at}.last`, 'give start or last, not both');
    lastSeconds = seconds as number;
  }
  if (start !== undefined && end !== undefined && start > end) fail(`${at}.start`, 'is after end');
  return { start, end, lastSeconds };
}

/** The window's bounds for a check that runs at `now`; open ends stay open. */
export function resolveWindow(window: WindowSpec, now: Micros): { start?: Micros; end?: Micros } {
  const end = window.end ?? (window.lastSeconds !== undefined ? now : undefined);
  const start = window.start ?? (window.lastSeconds !== undefined ? (end as Micros) - BigInt(window.lastSeconds) * MICROS_PER_SECOND : undefined);
  return { start, end };
}

function path(at: string, field: string): string {
  return at ? `${at}.${field}` : field;
}

function fail(field: string, message: string): never {
  throw new ValidationFailedError(`${field}: ${message}`, { field });
}

function object(raw: unknown, field: string, allowed: string[] | null, at: string): Record<string, unknown> {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) fail(field, 'must be an object');
  if (allowed) {
    for (const key of Object.keys(raw)) if (!allowed.includes(key)) fail(path(at, key), `unknown field (allowed: ${allowed.join(', ')})`);
  }
  return raw as Record<string, unknown>;
}

function required(raw: unknown, field: string): unknown {
  if (raw === undefined || raw === null) fail(field, 'is required');
  return raw;
}

function text(raw: unknown, field: string): string {
  if (typeof raw !== 'string' || raw === '') fail(field, 'must be a non-empty string');
  return raw;
}

function identifier(raw: unknown, field: string): string {
  const value = text(raw, field);
  if (!isIdentifier(value)) fail(field, 'must be an identifier (letters, digits, _)');
  return value;
}

function stringList(raw: unknown, field: string): string[] {
  if (!Array.isArray(raw)) fail(field, 'must be a list of strings');
  return raw.map((v, i) => text(v, `${field}[${i}]`));
}

function share(raw: unknown, field: string, fallback: number): number {
  if (raw === undefined) return fallback;
  if (typeof raw !== 'number' || !(raw >= 0 && raw <= 1)) fail(field, 'must be a number from 0 to 1');
  return raw;
}

function timestamp(raw: unknown, field: string): Micros {
  const micros = typeof raw === 'string' ? parseTimestamp(raw) : null;
  if (micros === null) fail(field, 'must be an ISO-8601 timestamp');
  return micros;
}
