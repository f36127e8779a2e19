import { DatasetDef } from '../core/definitions';
import { Micros } from '../core/timestamp';
import { RunControl } from '../duckdb/progress';
import { ColumnSchema, IngestInput } from './dataset-manifest';

export interface ConvertedFile {
  path: string;
  rows: number;
  bytes: number;
  schema: ColumnSchema[];
  minTimestamp: Micros | null;
  maxTimestamp: Micros | null;
}

/** What one ingested file may hold: rows, and bytes once decompressed. */
export interface IngestLimits {
  maxRows: number;
  maxBytes: number;
}

/**
 * Turns an input file into the lake's normalised Parquet. Contract: reads `input` as its format
 * says; the dataset's timestamp fields become UTC TIMESTAMP columns and may not be null; when
 * the dataset already has a schema the file must have exactly its columns (in any order) and
 * is cast to its types; otherwise the file's own types are kept. Throws InvalidFileError for
 * unreadable or empty files, SchemaMismatchError for files that do not fit, and
 * ROW_LIMIT_EXCEEDED / SIZE_LIMIT_EXCEEDED past its IngestLimits (checked before and while the
 * file is read, never after it was unpacked whole). Writes nothing but `outputPath`.
 */
export abstract class FileConverter {
  abstract toParquet(
    input: IngestInput,
    dataset: DatasetDef,
    existingSchema: ColumnSchema[] | null,
    outputPath: string,
    control?: RunControl,
  ): Promise<ConvertedFile>;

  /**
   * Writes the rows of several of the lake's normalised files (one schema) into one, in the
   * order given and each file's own order (compaction). Same stats as toParquet.
   */
  abstract merge(paths: string[], dataset: DatasetDef, outputPath: string, control?: RunControl): Promise<ConvertedFile>;
}
