import { applyDecorators } from '@nestjs/common';
import { ApiProperty } from '@nestjs/swagger';
import {
  ArrayNotEmpty,
  IsArray,
  IsBoolean,
  IsInt,
  IsNumber,
  IsObject,
  IsOptional,
  IsString,
  ValidateBy,
  ValidationOptions,
} from 'class-validator';

type FieldKind = 'string' | 'string[]' | 'boolean' | 'columns' | 'object' | 'integer' | 'number';

export interface ApiFieldOptions {
  kind: FieldKind;
  description: string;
  required?: boolean;
  example?: unknown;
}

/**
 * One decorator per DTO field carrying both its validation and its OpenAPI description, so the
 * documented contract and the enforced one cannot drift apart.
 */
export function ApiField(options: ApiFieldOptions): PropertyDecorator {
  const required = options.required ?? false;
  return applyDecorators(
    ApiProperty({ ...openApiType(options.kind), description: options.description, required, example: options.example }),
    ...(required ? [] : [IsOptional()]),
    ...validators(options.kind),
  );
}

function openApiType(kind: FieldKind): Record<string, unknown> {
  switch (kind) {
    case 'string':
      return { type: String };
    case 'string[]':
      return { type: [String] };
    case 'boolean':
      return { type: Boolean };
    case 'columns':
      return { type: 'object', additionalProperties: { type: 'array', items: {} } };
    case 'object':
      return { type: 'object' };
    case 'integer':
      return { type: 'integer' };
    case 'number':
      return { type: 'number' };
  }
}

function validators(kind: FieldKind): PropertyDecorator[] {
  switch (kind) {
    case 'string':
      return [IsString({ message: '$property must be a string' })];
    case 'string[]':
      return [
        IsArray({ message: '$property must be a list of strings' }),
        ArrayNotEmpty({ message: '$property must not be empty' }),
        IsString({ each: true, message: '$property must hold only strings' }),
      ];
    case 'boolean':
      return [IsBoolean({ message: '$property must be true or false' })];
    case 'columns':
      return [IsObject({ message: '$property must be an object of columns' }), IsColumnMap()];
    case 'object':
      return [IsObject({ message: '$property must be an object' })];
    case 'integer':
      return [IsInt({ message: '$property must be a whole number' })];
    case 'number':
      return [IsNumber({ allowNaN: false, allowInfinity: false }, { message: '$property must be a number' })];
  }
}

/** `{ column: [values…], … }`: an object whose every value is an array. */
function IsColumnMap(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isColumnMap',
      validator: {
        validate: (value: unknown) =>
          typeof value === 'object' && value !== null && !Array.isArray(value) && Object.values(value).every(Array.isArray),
        defaultMessage: () => '$property must map each column name to an array of values',
      },
    },
    options,
  );
}
