import { FeatureCatalog, ResolvedView } from '../core/catalog';
import { DatasetDef, Definitions } from '../core/definitions';
import { expectationColumns } from '../core/expectations';
import { ColumnSchema } from '../lake/dataset-manifest';
import { ViewBinder } from '../offline-store/view-binder';
import { FieldReader } from '../common/field-reader';
import { Located, ParsedFile } from './definitions-parser';

/** The schema of a dataset's latest snapshot; null while it has no data. */
export type DatasetSchemas = (dataset: string) => Promise<ColumnSchema[] | null>;

/** A view `plan` could not check against data, because its dataset has none yet. */
export interface UnboundView {
  view: string;
  dataset: string;
}

/**
 * Checks valid definitions against the data they will read: each dataset's timestamp fields
 * against its columns, each view's columns (or its SQL, bound by DuckDB) against its dataset's
 * schema. Problems are recorded at the field that causes them, with its line, as parse problems
 * are; nothing is read but the datasets' latest manifests.
 */
export class DefinitionsBinding {
  constructor(
    private readonly schemas: DatasetSchemas,
    private readonly binder: ViewBinder,
  ) {}

  async check(definitions: Definitions, files: ParsedFile[]): Promise<UnboundView[]> {
    const catalog = new FeatureCatalog({ ...definitions, version: 0, appliedAt: '', definitionsHash: '' });
    const schemas = new Map<string, ColumnSchema[] | null>();
    const broken = new Set<string>();
    for (const dataset of files.flatMap((f) => f.datasets)) {
      const schema = await this.schemas(dataset.def.name);
      schemas.set(dataset.def.name, schema);
      if (schema && !checkTimestampFields(dataset, schema)) broken.add(dataset.def.name);
      if (schema) checkExpectationColumns(dataset, schema);
    }
    const unbound: UnboundView[] = [];
    for (const view of files.flatMap((f) => f.featureViews)) {
      const schema = schemas.get(view.def.source);
      if (broken.has(view.def.source)) continue; // its dataset's problem is reported once, there
      if (!schema) {
        unbound.push({ view: view.def.name, dataset: view.def.source });
        continue;
      }
      const resolved = catalog.view(view.def.name);
      if (view.def.sql) await this.bindSql(view.at, resolved, schema);
      else checkColumns(view, resolved, schema);
    }
    return unbound;
  }

  private async bindSql(at: FieldReader, view: ResolvedView, schema: ColumnSchema[]): Promise<void> {
    const problem = await this.binder.bind(view, schema);
    if (!problem) return;
    const message = `${problem.message} (against dataset ${view.dataset.name}'s columns: ${columnList(schema)})`;
    if (problem.sqlLine) at.issueInText(message, 'sql', problem.sqlLine);
    else at.issue(message, 'sql');
  }
}

function checkTimestampFields({ def, at }: Located<DatasetDef>, schema: ColumnSchema[]): boolean {
  let sound = true;
  for (const [field, column] of [['timestamp_field', def.timestampField], ['created_timestamp_field', def.createdTimestampField]] as const) {
    if (column === undefined || schema.some((c) => c.name === column)) continue;
    at.issue(`dataset ${def.name} has no column ${JSON.stringify(column)} (its columns: ${columnList(schema)})`, field);
    sound = false;
  }
  return sound;
}

function checkExpectationColumns({ def, at }: Located<DatasetDef>, schema: ColumnSchema[]): void {
  if (!def.expectations) return;
  const missing = expectationColumns(def.expectations).filter((column) => !schema.some((c) => c.name === column));
  if (missing.length > 0) at.issue(`dataset ${def.name} has no column ${missing.join(', ')} (its columns: ${columnList(schema)})`, 'expectations');
}

/** A view without SQL takes its keys and features straight from the dataset's columns. */
function checkColumns({ at }: Located<unknown>, view: ResolvedView, schema: ColumnSchema[]): void {
  const has = (name: string) => schema.some((c) => c.name === name);
  const keys = view.joinKeys.filter((k) => !has(k.name)).map((k) => k.name);
  if (keys.length) at.issue(`dataset ${view.dataset.name} has no column ${keys.join(', ')} for the join keys (its columns: ${columnList(schema)})`, 'entities');
  view.def.features.forEach((feature, i) => {
    if (!has(feature.name)) at.issue(`dataset ${view.dataset.name} has no column ${JSON.stringify(feature.name)} (its columns: ${columnList(schema)}); a view without sql takes its features as they are`, ['features', i, 'name']);
  });
}

function columnList(schema: ColumnSchema[]): string {
  const names = schema.map((c) => c.name);
  return names.length > 20 ? `${names.slice(0, 20).join(', ')}, … ${names.length - 20} more` : names.join(', ');
}
