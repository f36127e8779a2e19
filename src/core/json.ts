/**
 * JSON.stringify that writes bigint as an exact JSON number. Node 20 has no JSON.rawJSON, and
 * Feast clients (Python) read big integers from JSON exactly, so int64 features keep every digit.
 */
export function stringifyJson(value: unknown): string {
  const parts: string[] = [];
  write(value, parts);
  return parts.join('');
}

function write(value: unknown, out: string[]): void {
  if (typeof value === 'bigint') {
    out.push(value.toString());
  } else if (Array.isArray(value)) {
    if (isFlatWithoutBigInt(value)) {
      out.push(JSON.stringify(value)); // the common case (a column of numbers or text): native speed
      return;
    }
    out.push('[');
    value.forEach((item, i) => {
      if (i > 0) out.push(',');
      write(item === undefined ? null : item, out);
    });
    out.push(']');
  } else if (value !== null && typeof value === 'object' && !(value instanceof Date)) {
    writeObject(value as Record<string, unknown>, out);
  } else {
    out.push(JSON.stringify(value) ?? 'null');
  }
}

function writeObject(value: Record<string, unknown>, out: string[]): void {
  if (typeof (value as { toJSON?: unknown }).toJSON === 'function') {
    write((value as { toJSON: () => unknown }).toJSON(), out);
    return;
  }
  out.push('{');
  let first = true;
  for (const [key, item] of Object.entries(value)) {
    if (item === undefined || typeof item === 'function') continue;
    if (!first) out.push(',');
    first = false;
    out.push(JSON.stringify(key), ':');
    write(item, out);
  }
  out.push('}');
}

function isFlatWithoutBigInt(items: unknown[]): boolean {
  for (const item of items) {
    const type = typeof item;
    if (type === 'bigint' || (type === 'object' && item !== null)) return false;
  }
  return true;
}

/** True when a value tree holds a bigint anywhere (so the fast native path cannot be used). */
export function containsBigInt(value: unknown): boolean {
  if (typeof value === 'bigint') return true;
  if (Array.isArray(value)) return value.some(containsBigInt);
  if (value !== null && typeof value === 'object') return Object.values(value).some(containsBigInt);
  return false;
}
