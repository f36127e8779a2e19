import { Injectable, Logger } from '@nestjs/common';
import { SkewResult } from '../../core/skew/skew-result';

/** What a failed check POSTs to its webhook: enough to act on, with the id to fetch the rest. */
export function webhookBody(result: SkewResult) {
  return {
    event: 'skew_check_failed',
    check: result.name,
    id: result.id,
    project: result.project,
    created_at: result.created_at,
    status: result.status,
    report: `/skew-checks/${result.id}/report`,
    drifted_features: result.distribution?.features.filter((f) => f.drifted).map((f) => f.feature) ?? [],
    dataset_drift: result.distribution?.dataset_drift ?? null,
    inconsistent_features: result.consistency?.features.filter((f) => !f.passed).map((f) => f.feature) ?? [],
    schema_issues: result.schema?.issues.map((i) => ({ feature: i.feature, issue: i.issue })) ?? [],
  };
}

/**
 * Whether an API request may name `url` as its webhook: only under a prefix the operator allowed
 * (compared after URL normalisation, so `https://a.example/` never admits `https://a.example.evil/`).
 */
export function webhookAllowed(url: string, allowlist: string[]): boolean {
  let normalised: string;
  try {
    normalised = new URL(url).href;
  } catch {
    return false;
  }
  return allowlist.some((prefix) => normalised.startsWith(new URL(prefix).href));
}

/** Calls a check's webhook when it fails. Best effort: a slow or failing receiver never fails the check. */
@Injectable()
export class SkewWebhook {
  private readonly logger = new Logger(SkewWebhook.name);

  async notify(url: string, result: SkewResult): Promise<boolean> {
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(webhookBody(result)),
        signal: AbortSignal.timeout(5000),
        // A redirect is not followed: the receiver was vetted, wherever it points is not.
        redirect: 'manual',
      });
      if (!response.ok) this.logger.warn(`webhook ${url} answered ${response.status} for skew check ${result.id}`);
      return response.ok;
    } catch (error) {
      this.logger.warn(`webhook ${url} failed for skew check ${result.id}: ${(error as Error).message}`);
      return false;
    }
  }
}
