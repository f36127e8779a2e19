import { LineCounter, parseDocument } from 'yaml';
import { FieldIssue, YamlSource } from './field-reader';

/** Parses YAML text; syntax errors become issues with their line instead of exceptions. */
export function parseYaml(file: string, text: string, issues: FieldIssue[]): { source: YamlSource; value: unknown } | undefined {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true, prettyErrors: false });
  if (doc.errors.length > 0) {
    for (const error of doc.errors) {
      issues.push({
        file,
        path: '',
        message: `invalid YAML: ${error.message.split('\n')[0]}`,
        // error.pos is an offset into the text; the line counter turns it into the line the user sees.
        line: lines.linePos(error.pos[0]).line,
      });
    }
    return undefined;
  }
  return { source: new YamlSource(file, doc, lines), value: doc.toJS() };
}
