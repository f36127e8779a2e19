/**
 * JSON for what crosses the queue between processes: call inputs and results carry engine
 * timestamps (bigint microseconds), which plain JSON cannot. A bigint travels as
 * `{"$bigint": "<digits>"}` and comes back as a bigint.
 */
const MARK = '$bigint';

export function encodeWire(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? { [MARK]: v.toString() } : v));
}

export function decodeWire<T = unknown>(text: string): T {
  return JSON.parse(text, (_key, v: unknown) => {
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
      const keys = Object.keys(v);
      if (keys.length === 1 && keys[0] === MARK && typeof (v as Record<string, unknown>)[MARK] === 'string') return BigInt((v as Record<string, string>)[MARK]);
    }
    return v;
  }) as T;
}
