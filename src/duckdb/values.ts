import {
  BIGINT,
  BOOLEAN,
  DOUBLE,
  DuckDBTimestampValue,
  DuckDBType,
  DuckDBValue,
  FLOAT,
  INTEGER,
  TIMESTAMP,
  timestampValue,
  VARCHAR,
} from '@duckdb/node-api';
import { Micros } from '../core/timestamp';
import { Value, ValueType } from '../core/value-types';

const TYPES: Record<ValueType, DuckDBType> = {
  int32: INTEGER,
  int64: BIGINT,
  float32: FLOAT,
  float64: DOUBLE,
  string: VARCHAR,
  bool: BOOLEAN,
  timestamp: TIMESTAMP,
};

export function duckDbTypeOf(type: ValueType): DuckDBType {
  return TYPES[type];
}

/** A value in our in-memory form, as DuckDB binds or appends it. */
export function toDuckDb(value: Value, type: ValueType): DuckDBValue {
  if (value === null) return null;
  if (type === 'timestamp') return timestampValue(value as Micros);
  return value;
}

/** A value read from a column declared as `type`, back in our in-memory form. */
export function fromDuckDb(raw: DuckDBValue, type: ValueType): Value {
  if (raw === null || raw === undefined) return null;
  if (type === 'timestamp') return (raw as DuckDBTimestampValue).micros;
  if (type === 'int64') return typeof raw === 'bigint' ? raw : BigInt(raw as number);
  return raw as Value;
}

export function micros(raw: DuckDBValue): Micros | null {
  return raw === null || raw === undefined ? null : (raw as DuckDBTimestampValue).micros;
}

export function timestampParam(value: Micros): DuckDBValue {
  return timestampValue(value);
}
