import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/** Seconds, from half a millisecond (an online read) to minutes (a materialization). */
const DURATION_BUCKETS = [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800];

/**
 * The application's Prometheus registry. Its own, not prom-client's global one, so that two
 * applications in one process (tests, the CLI next to a server) never share or clash on metrics.
 */
export class Metrics {
  readonly registry = new Registry();

  /** `collect`, when given, refreshes the gauge at each scrape. */
  gauge(name: string, help: string, labelNames: string[] = [], collect?: (this: Gauge) => Promise<void>): Gauge {
    return (this.registry.getSingleMetric(name) as Gauge | undefined) ?? new Gauge({ name, help, labelNames, collect, registers: [this.registry] });
  }

  counter(name: string, help: string, labelNames: string[] = []): Counter {
    return (this.registry.getSingleMetric(name) as Counter | undefined) ?? new Counter({ name, help, labelNames, registers: [this.registry] });
  }

  histogram(name: string, help: string, labelNames: string[] = []): Histogram {
    return (
      (this.registry.getSingleMetric(name) as Histogram | undefined) ??
      new Histogram({ name, help, labelNames, buckets: DURATION_BUCKETS, registers: [this.registry] })
    );
  }

  /** Process figures (RSS, heap, event-loop lag, open handles) for the server; CLI runs skip them. */
  collectProcessMetrics(): void {
    collectDefaultMetrics({ register: this.registry, prefix: 'featurelake_' });
  }

  async text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
