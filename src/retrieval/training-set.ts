/** What is stored with a saved training set: enough to describe it, and to rebuild it exactly. */
export interface TrainingSetMetadata {
  /**
   * 2: its times are UTC-aware (Parquet TIMESTAMP WITH TIME ZONE); 1: saved before that, with
   * naive TIMESTAMPs — and rebuilt so by `verify`, byte for byte.
   */
  format: 1 | 2;
  name: string;
  description?: string;
  project: string;
  createdAt: string;
  /** The registry version whose definitions computed it (versions never change). */
  registryVersion: number;
  /** The request's selection, as given. */
  selection: { features?: string[]; featureService?: string; fullFeatureNames: boolean };
  createdBeforeEvent: boolean;
  /** Where the entity rows came from (for people; the rows themselves are saved). */
  entitySource: Record<string, unknown>;
  entityRows: { key: string; count: number; sha256: string };
  /** Per feature view: the dataset and the lake snapshot its rows were computed from. */
  sources: { view: string; dataset: string; snapshotId: number }[];
  features: { name: string; view: string; feature: string; type: string }[];
  rowCount: number;
  schema: { name: string; type: string }[];
  data: { key: string; bytes: number; sha256: string };
  /** The parts the join was computed in (absent: one); a rebuild computes the same parts, for the same bytes. */
  parts?: number;
  timings: { entityRowsMs: number; joinMs: number; uploadMs: number; totalMs: number };
}

export function trainingSetPrefix(name: string): string {
  return `training-sets/${name}/`;
}
