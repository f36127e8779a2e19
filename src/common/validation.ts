import { ValidationError, ValidationPipe } from '@nestjs/common';
import { ValidationFailedError } from './errors';

/**
 * The one request-validation pipe: unknown fields are rejected, and the error names each bad
 * field with what is wrong with it. Handlers receive the request body as sent (no copy).
 */
export function createValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    transform: false,
    exceptionFactory: (errors) => {
      const problems = flatten(errors);
      return new ValidationFailedError(problems.map((p) => `${p.field}: ${p.problem}`).join('; '), { fields: problems });
    },
  });
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
