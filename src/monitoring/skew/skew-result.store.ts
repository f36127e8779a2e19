import { Injectable } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { SkewResult } from '../../core/skew/skew-result';
import { DocumentStore } from '../../storage/document-store';
import { ObjectStore } from '../../storage/object-store';

const PREFIX = 'skew-checks/';

/**
 * Skew check results in the lake, one folder per run: `report.html`, then `result.json` — written
 * last, so a run whose result is listed always has its report. Ids sort by time.
 */
@Injectable()
export class SkewResultStore {
  constructor(
    private readonly store: ObjectStore,
    private readonly documents: DocumentStore,
  ) {}

  static newId(now = new Date()): string {
    return `${now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}-${randomBytes(3).toString('hex')}`;
  }

  async save(result: SkewResult, html: string): Promise<void> {
    await this.store.put(`${PREFIX}${result.id}/report.html`, html);
    await this.documents.put(`${PREFIX}${result.id}/result.json`, result);
  }

  async get(id: string): Promise<SkewResult | null> {
    if (!isId(id)) return null;
    return this.documents.get<SkewResult>(`${PREFIX}${id}/result.json`);
  }

  async report(id: string): Promise<Buffer | null> {
    return isId(id) ? this.store.get(`${PREFIX}${id}/report.html`) : null;
  }

  /** Newest first; `name` narrows to one check's runs. */
  async list(limit: number, name?: string): Promise<SkewResult[]> {
    const ids = (await this.documents.folders(PREFIX)).filter(isId).sort().reverse();
    const found: SkewResult[] = [];
    for (const id of ids) {
      if (found.length >= limit) break;
      const result = await this.get(id);
      if (result && (name === undefined || result.name === name)) found.push(result);
    }
    return found;
  }
}

function isId(id: string): boolean {
  return /^\d{8}T\d{6}Z-[0-9a-f]{6}$/.test(id);
}
