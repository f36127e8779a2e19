import { ArgumentMetadata, ValidationError, ValidationPipe } from '@nestjs/common';
import { ValidationFailedError } from './errors';

/**
 * The one request-validation pipe: unknown fields are rejected, and the error names each bad
 * field with what is wrong with it. Handlers receive the request body as sent (no copy).
 */
export function createValidationPipe(): ValidationPipe {
  return new BodyValidationPipe(options(true), new ValidationPipe(options(false)));
}

function options(forbidUnknown: boolean) {
  return {
    whitelist: true,
    forbidNonWhitelisted: forbidUnknown,
    transform: false,
    exceptionFactory: (errors: ValidationError[]) => {
      const problems = flatten(errors);
      return new ValidationFailedError(problems.map((p) => `${p.field}: ${p.problem}`).join('; '), { fields: problems });
    },
  };
}

const IGNORES_UNKNOWN = Symbol('ignoresUnknownFields');

/**
 * Marks a request body class of Feast's wire format: like Feast's request models, it ignores
 * fields it does not know (Feast's clients send fields that newer servers added) instead of
 * refusing them.
 */
export function FeastRequestBody(): ClassDecorator {
  return (target) => {
    (target as unknown as Record<symbol, boolean>)[IGNORES_UNKNOWN] = true;
  };
}

/**
 * Two rules class-validator leaves open: a body must be a JSON object (it lets `null` through to
 * the handler), and a top-level field sent as `null` counts as absent — as JSON clients and
 * Feast's server treat it — so an optional field is never read as null.
 */
class BodyValidationPipe extends ValidationPipe {
  constructor(
    strict: ConstructorParameters<typeof ValidationPipe>[0],
    private readonly lenient: ValidationPipe,
  ) {
    super(strict);
  }

  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    if (metadata.type === 'body' && metadata.metatype && metadata.metatype !== Object) {
      if (value === null || value === undefined || typeof value !== 'object' || Array.isArray(value)) {
        throw new ValidationFailedError('body: must be a JSON object', { fields: [{ field: 'body', problem: 'must be a JSON object' }] });
      }
      for (const [key, field] of Object.entries(value)) if (field === null) delete (value as Record<string, unknown>)[key];
    }
    if ((metadata.metatype as unknown as Record<symbol, boolean> | undefined)?.[IGNORES_UNKNOWN]) return this.lenient.transform(value, metadata);
    return super.transform(value, metadata);
  }
}

function flatten(errors: ValidationError[], parent = ''): { field: string; problem: string }[] {
  return errors.flatMap((error) => {
    const field = parent ? `${parent}.${error.property}` : error.property;
    const own = Object.entries(error.constraints ?? {}).map(([rule, problem]) => ({
      field,
      problem: rule === 'whitelistValidation' ? 'unknown field' : problem.replace(/^\S+ /, ''),
    }));
    return [...own, ...flatten(error.children ?? [], field)];
  });
}
