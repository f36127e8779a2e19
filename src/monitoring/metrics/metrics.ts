import { Counter, Gauge, Registry } from 'prom-client';

/**
 * The application's Prometheus registry. Its own, not prom-client's global one, so that two
 * applications in one process (tests, the CLI next to a server) never share or clash on metrics.
 */
export class Metrics {
  readonly registry = new Registry();

  gauge(name: string, help: string, labelNames: string[] = []): Gauge {
    return (this.registry.getSingleMetric(name) as Gauge | undefined) ?? new Gauge({ name, help, labelNames, registers: [this.registry] });
  }

  counter(name: string, help: string, labelNames: string[] = []): Counter {
    return (this.registry.getSingleMetric(name) as Counter | undefined) ?? new Counter({ name, help, labelNames, registers: [this.registry] });
  }

  async text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
