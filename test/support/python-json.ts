/**
 * JSON as Python's `json` module reads it, for checking what Feast's client gets: a number
 * with a decimal point or an exponent is a float, any other an int (of any size: Feast's client
 * then puts it in an int64 proto, which overflows past 2^63). Strings, booleans, null, arrays
 * and objects as JSON.parse gives them.
 */
export type PyValue = PyInt | PyFloat | string | boolean | null | PyValue[] | { [key: string]: PyValue };

export class PyInt {
  constructor(readonly value: bigint) {}
}

export class PyFloat {
  constructor(readonly value: number) {}
}

export function parsePythonJson(text: string): PyValue {
  let at = 0;
  const fail = (what: string): never => {
    throw new Error(`not JSON at ${at}: ${what}`);
  };
  const space = () => {
    while (at < text.length && ' \t\n\r'.includes(text[at])) at++;
  };
  const value = (): PyValue => {
    space();
    const c = text[at];
    if (c === '{') {
      at++;
      const out: Record<string, PyValue> = {};
      space();
      if (text[at] === '}') return at++, out;
      for (;;) {
        space();
        const key = value();
        if (typeof key !== 'string') fail('an object key');
        space();
        if (text[at++] !== ':') fail('":"');
        out[key as string] = value();
        space();
        const next = text[at++];
        if (next === '}') return out;
        if (next !== ',') fail('"," or "}"');
      }
    }
    if (c === '[') {
      at++;
      const out: PyValue[] = [];
      space();
      if (text[at] === ']') return at++, out;
      for (;;) {
        out.push(value());
        space();
        const next = text[at++];
        if (next === ']') return out;
        if (next !== ',') fail('"," or "]"');
      }
    }
    if (c === '"') {
      const end = stringEnd(text, at);
      const s = JSON.parse(text.slice(at, end)) as string;
      at = end;
      return s;
    }
    for (const [word, v] of [['true', true], ['false', false], ['null', null]] as const) {
      if (text.startsWith(word, at)) return (at += word.length), v;
    }
    const number = /^-?\d+(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(at));
    if (!number) return fail('a value');
    at += number[0].length;
    return number[1] || number[2] ? new PyFloat(Number(number[0])) : new PyInt(BigInt(number[0]));
  };
  const result = value();
  space();
  if (at !== text.length) fail('the end');
  return result;
}

function stringEnd(text: string, start: number): number {
  let at = start + 1;
  while (at < text.length && text[at] !== '"') at += text[at] === '\\' ? 2 : 1;
  return at + 1;
}

/**
 * Whether Python 3.10's `datetime.fromisoformat` reads the text after Feast's client replaces
 * `Z` with `+00:00` (remote.py, _get_event_ts): 3.10 takes a fraction of 3 or 6 digits only.
 */
export function python310ReadsTimestamp(text: string): boolean {
  return /^\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(\.\d{3}|\.\d{6})?([+-]\d\d:\d\d)?$/.test(text.replace('Z', '+00:00'));
}
