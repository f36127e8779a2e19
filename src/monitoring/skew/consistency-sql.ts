import { quoteName } from '../../duckdb/sql-text';
import { ServedPair } from './skew-engine';

const FLOATS = ['float32', 'float64'];
const NUMBERS = ['int32', 'int64', ...FLOATS];

/**
 * SQL over the temp view `served` (logged rows with their point-in-time offline values) for one
 * feature: the counts of ConsistencyFeature, and up to five rows that disagree. Floats match
 * within a relative 1e-9 (what survives a JSON round trip); everything else must be equal.
 */
export function compareServedSql(pair: ServedPair, keys: string[], timeColumn: string): { counts: string; examples: string } {
  const s = quoteName(pair.servedColumn);
  const o = quoteName(pair.offlineColumn);
  const both = `${s} IS NOT NULL AND ${o} IS NOT NULL`;
  const equal = FLOATS.includes(pair.type) ? `(${s} = ${o} OR abs(${s} - ${o}) <= 1e-9 * greatest(abs(${s}), abs(${o})))` : `${s} = ${o}`;
  const smape = NUMBERS.includes(pair.type)
    ? `avg(CASE WHEN abs(${s}) + abs(${o}) = 0 THEN 0 ELSE 200 * abs(${s} - ${o}) / (abs(${s}) + abs(${o})) END) FILTER (WHERE ${both})`
    : 'NULL';
  const disagree = `(${both} AND NOT ${equal}) OR (${s} IS NULL) <> (${o} IS NULL)`;
  const counts = `
    SELECT count(*) AS rows,
           count(*) FILTER (WHERE ${both}) AS compared,
           count(*) FILTER (WHERE ${both} AND NOT ${equal}) AS mismatches,
           count(*) FILTER (WHERE ${s} IS NULL AND ${o} IS NOT NULL) AS missing,
           count(*) FILTER (WHERE ${s} IS NOT NULL AND ${o} IS NULL) AS extra,
           ${smape} AS smape
    FROM served`;
  const time = quoteName(timeColumn);
  const examples = `
    SELECT ${keys.map((k) => quoteName(k)).join(', ')}, strftime(${time}, '%Y-%m-%dT%H:%M:%S.%fZ') AS __time, ${s} AS __served, ${o} AS __offline
    FROM served WHERE ${disagree} ORDER BY ${time} LIMIT 5`;
  return { counts, examples };
}
