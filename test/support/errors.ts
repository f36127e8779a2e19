/**
 * An error answer as a test reads it, on any route: the code from `X-Error-Code` (which every
 * error answer carries), the message from the `{code, message, details}` body — or, on Feast's
 * routes, from Feast's error detail (a JSON string, itself a JSON object for the errors Feast
 * names by class).
 */
export interface ErrorAnswer {
  status: number;
  code: string | undefined;
  message: string | undefined;
  details?: unknown;
  /** The Feast class the detail names (Feast's routes only). */
  feastClass?: string;
}

/** From a supertest response (its body parsed as JSON). */
export function errorOf(response: { status: number; headers: Record<string, string>; body: unknown }): ErrorAnswer {
  return fromParts(response.status, response.headers['x-error-code'], response.body);
}

/** From a fetch response (reads its body). */
export async function errorOfFetch(response: Response): Promise<ErrorAnswer> {
  const text = await response.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON: kept as text
  }
  return fromParts(response.status, response.headers.get('x-error-code') ?? undefined, body);
}

function fromParts(status: number, header: string | undefined, body: unknown): ErrorAnswer {
  if (typeof body === 'string') {
    try {
      const detail = JSON.parse(body) as { class?: string; message?: string };
      if (detail && typeof detail.message === 'string') return { status, code: header, message: detail.message, feastClass: detail.class };
    } catch {
      // a plain message (Feast's client raises a RuntimeError for it)
    }
    return { status, code: header, message: body };
  }
  const object = (body ?? {}) as { code?: string; message?: string; details?: unknown };
  // The body's code and the header's are one: a test that reads either reads the same.
  if (object.code !== undefined && object.code !== header) throw new Error(`X-Error-Code ${header} but the body says ${object.code}`);
  return { status, code: header, message: object.message, details: object.details };
}
