import { Document, isNode, isScalar, LineCounter, Scalar } from 'yaml';

/** One problem found in a YAML file, located by file, field path and (when known) line. */
export interface FieldIssue {
  file: string;
  path: string;
  message: string;
  line?: number;
}

export function formatIssue(issue: FieldIssue): string {
  const where = issue.path ? `${issue.file}: ${issue.path}` : issue.file;
  return `${where}: ${issue.message}${issue.line ? ` (line ${issue.line})` : ''}`;
}

type Segment = string | number;

/** Where a reader sits in a parsed YAML document; resolves field paths to line numbers. */
export class YamlSource {
  constructor(
    readonly file: string,
    private readonly doc: Document,
    private readonly lines: LineCounter,
  ) {}

  /**
   * The line of the field, or of the nearest mapping that holds it when the field is absent
   * (`features: is required` points at the view that lacks it).
   */
  lineOf(segments: Segment[]): number | undefined {
    for (let depth = segments.length; depth >= 0; depth--) {
      const node = depth > 0 ? this.doc.getIn(segments.slice(0, depth), true) : this.doc.contents;
      if (isNode(node) && node.range) return this.lines.linePos(node.range[0]).line;
    }
    return undefined;
  }

  /**
   * The file line of line `textLine` (1-based) inside a text field: a block scalar (`sql: |`)
   * starts on the line after its key, any other scalar on the key's own line.
   */
  lineInText(segments: Segment[], textLine: number): number | undefined {
    const node = this.doc.getIn(segments, true);
    const start = this.lineOf(segments);
    if (start === undefined) return undefined;
    const block = isScalar(node) && (node.type === Scalar.BLOCK_LITERAL || node.type === Scalar.BLOCK_FOLDED);
    return start + (block ? 1 : 0) + textLine - 1;
  }
}

/**
 * Reads typed fields out of one YAML mapping and records every problem instead of stopping at
 * the first, so a user fixes a whole file in one pass. Each issue names the field path
 * (`feature_views[0].ttl`) the way the user would find it in the file.
 */
export class FieldReader {
  constructor(
    private readonly source: YamlSource,
    private readonly segments: Segment[],
    readonly value: Record<string, unknown>,
    private readonly issues: FieldIssue[],
  ) {}

  static root(source: YamlSource, value: unknown, issues: FieldIssue[]): FieldReader | undefined {
    if (!isPlainObject(value)) {
      issues.push({ file: source.file, path: '', message: 'must be a mapping of fields', line: source.lineOf([]) });
      return undefined;
    }
    return new FieldReader(source, [], value, issues);
  }

  get file(): string {
    return this.source.file;
  }

  get path(): string {
    return formatPath(this.segments);
  }

  /** Records a problem at `field` (or at this mapping when omitted). */
  issue(message: string, field?: Segment | Segment[]): void {
    const segments = [...this.segments, ...(field === undefined ? [] : Array.isArray(field) ? field : [field])];
    this.issues.push({
      file: this.source.file,
      path: formatPath(segments),
      message,
      line: this.source.lineOf(segments),
    });
  }

  /** Records a problem at line `textLine` of the text in `field` (a line of a view's SQL). */
  issueInText(message: string, field: Segment, textLine: number): void {
    const segments = [...this.segments, field];
    this.issues.push({ file: this.source.file, path: formatPath(segments), message, line: this.source.lineInText(segments, textLine) });
  }

  rejectUnknown(allowed: readonly string[]): void {
    for (const key of Object.keys(this.value)) {
      if (!allowed.includes(key)) this.issue(`unknown field (allowed: ${allowed.join(', ')})`, key);
    }
  }

  has(field: string): boolean {
    return this.value[field] !== undefined && this.value[field] !== null;
  }

  string(field: string, required = false): string | undefined {
    const raw = this.value[field];
    if (raw === undefined || raw === null) {
      if (required) this.issue('is required', field);
      return undefined;
    }
    if (typeof raw !== 'string' || raw.trim() === '') {
      this.issue(`must be a non-empty string, got ${describe(raw)}`, field);
      return undefined;
    }
    return raw;
  }

  boolean(field: string, fallback: boolean): boolean {
    const raw = this.value[field];
    if (raw === undefined || raw === null) return fallback;
    if (typeof raw !== 'boolean') {
      this.issue(`must be true or false, got ${describe(raw)}`, field);
      return fallback;
    }
    return raw;
  }

  /** A scalar that may also be written as a number (durations like `0`). */
  scalarText(field: string): string | undefined {
    const raw = this.value[field];
    if (raw === undefined || raw === null) return undefined;
    if (typeof raw === 'number') return String(raw);
    return this.string(field);
  }

  stringList(field: string, required = false): string[] | undefined {
    const raw = this.value[field];
    if (raw === undefined || raw === null) {
      if (required) this.issue('is required', field);
      return undefined;
    }
    if (!Array.isArray(raw) || raw.some((item) => typeof item !== 'string')) {
      this.issue(`must be a list of strings, got ${describe(raw)}`, field);
      return undefined;
    }
    return raw as string[];
  }

  object(field: string, required = false): FieldReader | undefined {
    const raw = this.value[field];
    if (raw === undefined || raw === null) {
      if (required) this.issue('is required', field);
      return undefined;
    }
    if (!isPlainObject(raw)) {
      this.issue(`must be a mapping of fields, got ${describe(raw)}`, field);
      return undefined;
    }
    return new FieldReader(this.source, [...this.segments, field], raw, this.issues);
  }

  /** A list of mappings; items that are not mappings are reported and skipped. */
  objectList(field: string): FieldReader[] {
    const raw = this.value[field];
    if (raw === undefined || raw === null) return [];
    if (!Array.isArray(raw)) {
      this.issue(`must be a list, got ${describe(raw)}`, field);
      return [];
    }
    const readers: FieldReader[] = [];
    raw.forEach((item, index) => {
      if (isPlainObject(item)) readers.push(new FieldReader(this.source, [...this.segments, field, index], item, this.issues));
      else this.issue(`must be a mapping of fields, got ${describe(item)}`, [field, index]);
    });
    return readers;
  }
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function formatPath(segments: Segment[]): string {
  return segments.map((s, i) => (typeof s === 'number' ? `[${s}]` : i === 0 ? s : `.${s}`)).join('');
}

function describe(value: unknown): string {
  if (Array.isArray(value)) return 'a list';
  if (isPlainObject(value)) return 'a mapping';
  return JSON.stringify(value);
}
