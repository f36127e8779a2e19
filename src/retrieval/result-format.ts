import { ValidationFailedError } from '../common/errors';
import { CONTENT_TYPES, RESULT_FORMATS, ResultFormat } from './result-encoder';

/** `?format=` wins; else the first Accept type we can produce; else `fallback`. */
export function chooseFormat(format: string | undefined, accept: string | undefined, fallback: ResultFormat = 'json'): ResultFormat {
  if (format !== undefined) {
    if (!(RESULT_FORMATS as readonly string[]).includes(format)) {
      throw new ValidationFailedError(`format: must be one of ${RESULT_FORMATS.join(', ')}, got ${JSON.stringify(format)}`, { field: 'format' });
    }
    return format as ResultFormat;
  }
  for (const part of (accept ?? '').split(',')) {
    const type = part.split(';')[0].trim().toLowerCase();
    const match = (Object.entries(CONTENT_TYPES) as [ResultFormat, string][]).find(([, t]) => t === type);
    if (match) return match[0];
  }
  return fallback;
}
