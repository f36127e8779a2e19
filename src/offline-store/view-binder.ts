import { DuckDBConnection } from '@duckdb/node-api';
import { ResolvedView } from '../core/catalog';
import { quoteIdent } from '../core/identifiers';
import { DuckDbDatabase } from '../duckdb/duckdb-database';
import { ColumnSchema } from '../lake/dataset-manifest';
import { quoteName } from '../duckdb/sql-text';
import { missingViewColumns, viewColumns } from './view-columns';

/** Why a view's SQL would not run, and where in the SQL (1-based line) when DuckDB says. */
export interface BindProblem {
  message: string;
  sqlLine?: number;
}

/**
 * Binds a view's SQL as a materialization would run it, against an empty table with its
 * dataset's schema: DuckDB resolves every name and type, and no data is read, so `plan` can
 * refuse SQL that would fail hours later in a job.
 */
export class ViewBinder {
  constructor(private readonly db: DuckDbDatabase) {}

  async bind(view: ResolvedView, schema: readonly ColumnSchema[]): Promise<BindProblem | null> {
    return this.db.withConnection(async (c) => {
      await c.run(`CREATE TEMP TABLE ${quoteIdent(view.dataset.name)} (${schema.map((col) => `${quoteName(col.name)} ${col.type}`).join(', ')})`);
      return bindOn(c, view);
    });
  }
}

async function bindOn(c: DuckDBConnection, view: ResolvedView): Promise<BindProblem | null> {
  let columns: { name: string; type: string }[];
  try {
    columns = await viewColumns(c, view);
  } catch (error) {
    return engineProblem(error);
  }
  const names = columns.map((col) => col.name);
  const missing = missingViewColumns(view, names);
  if (missing.length > 0) return { message: `returns no column ${missing.join(', ')} (it returns ${names.join(', ')})` };
  // DuckDB checks a cast only when it runs it; a nested value never casts to a declared scalar.
  const nested = view.def.features.filter((f) => NESTED.test(columns.find((col) => col.name === f.name)?.type ?? ''));
  if (nested.length > 0) {
    const shown = nested.map((f) => `${f.name} is ${columns.find((col) => col.name === f.name)?.type}, declared ${f.type}`);
    return { message: `returns values that do not cast to the declared types: ${shown.join('; ')}` };
  }
  return null;
}

/** DuckDB's nested types: lists, arrays (`INTEGER[]`, `INTEGER[3]`), structs, maps, unions. */
const NESTED = /\]$|^(STRUCT|MAP|UNION)\(/;

/** DuckDB's message (its first line) and the `LINE n:` it points at, when it gives one. */
function engineProblem(error: unknown): BindProblem {
  const text = messageOf(error);
  const line = /^LINE (\d+):/m.exec(text);
  return { message: `does not bind: ${text.split('\n')[0].replace(/^Error: /, '')}`, ...(line ? { sqlLine: Number(line[1]) } : {}) };
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
