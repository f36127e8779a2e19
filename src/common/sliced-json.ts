/**
 * A JSON parser that can stop and resume: `parseSliced` gives the event loop back every few
 * milliseconds, so a large body never holds the server for the time a single JSON.parse of it
 * would take (seconds, for a 64 MiB body of small values). It accepts exactly what JSON.parse
 * accepts and builds the same values (strings with escapes are decoded by JSON.parse itself);
 * keys named `__proto__` become own properties, as with JSON.parse, never prototypes.
 */

/** Where a container is: `first` (a value/key or the closing bracket), `item` (after a comma), `colon`, `value` (after a key's colon), `comma` (after an item). */
type State = 'first' | 'item' | 'colon' | 'value' | 'comma';
type Frame = { kind: 'array'; value: unknown[]; state: State } | { kind: 'object'; value: Record<string, unknown>; state: State; key: string };

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const CONTROL = /[\u0000-\u001f]/;
/** Tokens between looks at the clock. */
const CHECK_EVERY = 512;

export class JsonSyntaxError extends Error {}

export class SlicedJsonParser {
  private pos = 0;
  private readonly stack: Frame[] = [];
  private result: unknown;
  private finished = false;

  constructor(
    private readonly text: string,
    private readonly maxDepth: number,
  ) {}

  /** Parses until done or until `budgetMs` have passed; true when the value is complete. */
  step(budgetMs: number): boolean {
    const until = performance.now() + budgetMs;
    let tokens = 0;
    while (!this.finished) {
      if (++tokens % CHECK_EVERY === 0 && performance.now() > until) return false;
      this.next();
    }
    return true;
  }

  get value(): unknown {
    return this.result;
  }

  /** One token: a value, a key, or the punctuation between them. */
  private next(): void {
    this.skipSpace();
    const top = this.stack[this.stack.length - 1];
    if (top === undefined) return this.startValue();
    const c = this.text.charCodeAt(this.pos);
    const closing = top.kind === 'array' ? 93 /* ] */ : 125; /* } */
    switch (top.state) {
      case 'first':
        if (c === closing) return this.close();
        return top.kind === 'array' ? this.startValue() : this.readKey(top);
      case 'item':
        return top.kind === 'array' ? this.startValue() : this.readKey(top);
      case 'colon':
        if (c !== 58 /* : */) this.fail('expected :');
        this.pos++;
        top.state = 'value';
        return;
      case 'value':
        return this.startValue();
      case 'comma':
        if (c === closing) return this.close();
        if (c !== 44 /* , */) this.fail(top.kind === 'array' ? 'expected , or ]' : 'expected , or }');
        this.pos++;
        top.state = 'item';
    }
  }

  private readKey(top: Extract<Frame, { kind: 'object' }>): void {
    if (this.text.charCodeAt(this.pos) !== 34 /* " */) this.fail('expected a string key');
    top.key = this.readString();
    top.state = 'colon';
  }

  private startValue(): void {
    const c = this.text.charCodeAt(this.pos);
    if (c === 91 /* [ */ || c === 123 /* { */) {
      if (this.stack.length >= this.maxDepth) this.fail(`nesting deeper than ${this.maxDepth} levels`);
      this.pos++;
      this.stack.push(c === 91 ? { kind: 'array', value: [], state: 'first' } : { kind: 'object', value: {}, state: 'first', key: '' });
      return;
    }
    let value: unknown;
    if (c === 34) value = this.readString();
    else if (c === 116 /* t */) value = this.literal('true', true);
    else if (c === 102 /* f */) value = this.literal('false', false);
    else if (c === 110 /* n */) value = this.literal('null', null);
    else value = this.readNumber();
    this.emit(value);
  }

  private close(): void {
    this.pos++;
    this.emit(this.stack.pop()!.value);
  }

  /** A complete value goes into its parent (or is the result). */
  private emit(value: unknown): void {
    const parent = this.stack[this.stack.length - 1];
    if (parent === undefined) {
      this.result = value;
      this.skipSpace();
      if (this.pos !== this.text.length) this.fail('unexpected text after the value');
      this.finished = true;
      return;
    }
    parent.state = 'comma';
    if (parent.kind === 'array') {
      parent.value.push(value);
      return;
    }
    if (parent.key === '__proto__') Object.defineProperty(parent.value, parent.key, { value, writable: true, enumerable: true, configurable: true });
    else parent.value[parent.key] = value;
  }

  private readString(): string {
    const start = this.pos;
    let end = this.text.indexOf('"', start + 1);
    if (end === -1) this.fail('unterminated string');
    let raw = this.text.slice(start + 1, end);
    if (raw.indexOf('\\') === -1) {
      if (CONTROL.test(raw)) this.fail('control character in a string');
      this.pos = end + 1;
      return raw;
    }
    // Escapes: find the quote that really ends the string, then let JSON.parse decode it.
    end = start + 1;
    for (;;) {
      const c = this.text.charCodeAt(end);
      if (Number.isNaN(c)) this.fail('unterminated string');
      if (c === 92) end += 2;
      else if (c === 34) break;
      else end++;
    }
    raw = this.text.slice(start, end + 1);
    this.pos = end + 1;
    try {
      return JSON.parse(raw) as string;
    } catch {
      return this.fail('invalid string');
    }
  }

  private readNumber(): number {
    NUMBER.lastIndex = this.pos;
    const match = NUMBER.exec(this.text);
    if (!match || match[0] === '' || match[0] === '-') this.fail('unexpected character');
    this.pos += match![0].length;
    return Number(match![0]);
  }

  private literal<T>(word: string, value: T): T {
    if (!this.text.startsWith(word, this.pos)) this.fail('unexpected character');
    this.pos += word.length;
    return value;
  }

  private skipSpace(): void {
    for (;;) {
      const c = this.text.charCodeAt(this.pos);
      if (c !== 32 && c !== 10 && c !== 13 && c !== 9) return;
      this.pos++;
    }
  }

  private fail(reason: string): never {
    throw new JsonSyntaxError(this.pos >= this.text.length ? `unexpected end of JSON input (${reason})` : `${reason} at position ${this.pos}`);
  }
}

/** Parses `text`, yielding to the event loop every `sliceMs` of work. */
export async function parseSliced(text: string, maxDepth: number, sliceMs = 3): Promise<unknown> {
  const parser = new SlicedJsonParser(text, maxDepth);
  while (!parser.step(sliceMs)) await new Promise((resolve) => setImmediate(resolve));
  return parser.value;
}
