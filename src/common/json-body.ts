import type { Readable } from 'node:stream';
import { JsonLimitExceededError, limitExceeded, MalformedJsonError, PayloadTooLargeError } from './errors';
import { formatSize } from './size';
import { JsonSyntaxError, parseSliced } from './sliced-json';

export interface JsonBodyLimits {
  maxBytes: number;
  /** Values (array items and object members) the body may hold. */
  maxElements: number;
  maxDepth: number;
}

/** Bodies up to this many bytes (or characters) are parsed in one go (a few milliseconds at worst); larger ones in slices. */
const ONE_GO_CHARS = 64 * 1024;

/**
 * Counts a JSON text's nesting and values as its bytes arrive, outside strings, so that a body
 * built to be expensive (`[{},{},…]` by the million, 100,000 levels deep) is refused while it
 * is read, long before anything parses or walks it. Values are counted as commas plus opened
 * containers: exact for non-empty containers, one more for each empty one.
 */
export class JsonShapeCounter {
  private depth = 0;
  private elements = 0;
  private inString = false;
  private escaped = false;

  constructor(private readonly limits: Pick<JsonBodyLimits, 'maxElements' | 'maxDepth'>) {}

  feed(chunk: Uint8Array): void {
    let { depth, elements, inString, escaped } = this;
    for (let i = 0; i < chunk.length; i++) {
      const c = chunk[i];
      if (inString) {
        if (escaped) escaped = false;
        else if (c === 92 /* \ */) escaped = true;
        else if (c === 34 /* " */) inString = false;
      } else if (c === 34) inString = true;
      else if (c === 44 /* , */) elements++;
      else if (c === 91 /* [ */ || c === 123 /* { */) {
        elements++;
        if (++depth > this.limits.maxDepth) throw new MalformedJsonError(`request body nests arrays and objects deeper than ${this.limits.maxDepth} levels`);
      } else if (c === 93 /* ] */ || c === 125 /* } */) depth--;
    }
    Object.assign(this, { depth, elements, inString, escaped });
    if (elements > this.limits.maxElements) {
      throw limitExceeded(JsonLimitExceededError, `the request body holds more than ${this.limits.maxElements.toLocaleString('en-US')} JSON values, which`, 'limits.max_json_elements', this.limits.maxElements);
    }
  }
}

/** Decodes whole small bodies (a one-shot decode keeps no state, so one decoder serves every request). */
const WHOLE_UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

/**
 * Reads a JSON request body within its limits — bytes, values and depth, all checked as the
 * data arrives — decodes it as strict UTF-8 and parses it without holding the event loop: small
 * bodies at once, large ones in slices between which other requests are served. Resolves
 * undefined for an empty body. On a limit the body is left unread (the answer closes the connection).
 */
export function readJsonBody(payload: Readable, limits: JsonBodyLimits, declaredBytes?: number): Promise<unknown> {
  if (declaredBytes !== undefined && declaredBytes > limits.maxBytes) return Promise.reject(tooLarge(limits.maxBytes));
  // The serving hot path: a small body of known length is gathered whole, then checked and parsed in one go.
  if (declaredBytes !== undefined && declaredBytes <= ONE_GO_CHARS) return readSmall(payload, limits);
  return readStreaming(payload, limits);
}

function readSmall(payload: Readable, limits: JsonBodyLimits): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    payload.on('data', (chunk: Buffer) => chunks.push(chunk));
    payload.once('error', reject);
    payload.once('end', () => {
      try {
        const body = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
        if (body.length > limits.maxBytes) throw tooLarge(limits.maxBytes);
        new JsonShapeCounter(limits).feed(body);
        const text = WHOLE_UTF8.decode(body);
        resolve(text === '' ? undefined : JSON.parse(text));
      } catch (error) {
        reject(describe(error));
      }
    });
  });
}

function readStreaming(payload: Readable, limits: JsonBodyLimits): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });
    const counter = new JsonShapeCounter(limits);
    const parts: string[] = [];
    let bytes = 0;
    const stop = (error: unknown) => {
      payload.removeListener('data', onData);
      payload.removeListener('end', onEnd);
      payload.pause();
      reject(describe(error));
    };
    const onData = (chunk: Buffer) => {
      try {
        bytes += chunk.length;
        if (bytes > limits.maxBytes) throw tooLarge(limits.maxBytes);
        counter.feed(chunk);
        parts.push(decoder.decode(chunk, { stream: true }));
      } catch (error) {
        stop(error);
      }
    };
    const onEnd = () => {
      try {
        parts.push(decoder.decode());
      } catch (error) {
        return reject(describe(error));
      }
      parse(parts.join(''), limits.maxDepth).then(resolve, (error: unknown) => reject(describe(error)));
    };
    payload.on('data', onData);
    payload.once('end', onEnd);
    payload.once('error', (error) => reject(error));
  });
}

async function parse(text: string, maxDepth: number): Promise<unknown> {
  if (text === '') return undefined;
  if (text.length <= ONE_GO_CHARS) return JSON.parse(text);
  return parseSliced(text, maxDepth);
}

function tooLarge(maxBytes: number): PayloadTooLargeError {
  return new PayloadTooLargeError(`request body is larger than limits.max_json_bytes (${formatSize(maxBytes)})`, { limit: 'limits.max_json_bytes', max: maxBytes });
}

function describe(error: unknown): unknown {
  if (error instanceof MalformedJsonError || error instanceof JsonLimitExceededError || error instanceof PayloadTooLargeError) return error;
  const { code, name, message } = (error ?? {}) as { code?: string; name?: string; message?: string };
  if (code === 'ERR_ENCODING_INVALID_ENCODED_DATA') return new MalformedJsonError('request body is not valid JSON: it is not valid UTF-8');
  if (name === 'SyntaxError' || error instanceof JsonSyntaxError) return new MalformedJsonError(`request body is not valid JSON: ${message}`);
  return error;
}
