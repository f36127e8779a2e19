import { Injectable } from '@nestjs/common';
import { Metrics } from '../metrics/metrics';
import { DatasetService } from './dataset.service';

/** Listing a lake on S3 costs requests, so a scrape reuses figures up to this old. */
const CACHE_MS = 30_000;

/** Rows and bytes of each dataset's latest snapshot, read from the manifests when /metrics is scraped. */
@Injectable()
export class LakeMetrics {
  private cached?: { at: number; figures: Promise<{ name: string; rows: number; bytes: number }[]> };

  constructor(datasets: DatasetService, metrics: Metrics) {
    const figures = () => this.figures(datasets);
    metrics.gauge('featurelake_lake_dataset_rows', 'Rows in the latest snapshot of each dataset', ['dataset'], async function () {
      this.reset();
      for (const f of await figures()) this.set({ dataset: f.name }, f.rows);
    });
    metrics.gauge('featurelake_lake_dataset_bytes', 'Parquet bytes in the latest snapshot of each dataset', ['dataset'], async function () {
      this.reset();
      for (const f of await figures()) this.set({ dataset: f.name }, f.bytes);
    });
  }

  private figures(datasets: DatasetService): Promise<{ name: string; rows: number; bytes: number }[]> {
    if (!this.cached || Date.now() - this.cached.at > CACHE_MS) {
      const figures = datasets
        .list()
        .then((list) => list.map((d) => ({ name: d.name, rows: d.latest?.rowCount ?? 0, bytes: d.latest?.files.reduce((n, f) => n + f.bytes, 0) ?? 0 })))
        .catch(() => []); // an unreachable lake shows as missing figures (and in the S3 error counter), not a failed scrape
      this.cached = { at: Date.now(), figures };
    }
    return this.cached.figures;
  }
}
