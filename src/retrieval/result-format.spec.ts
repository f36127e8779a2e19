import { chooseFormat } from './result-format';

describe('chooseFormat', () => {
  it('takes ?format= first, then the first Accept type it can produce, then the fallback', () => {
    expect(chooseFormat('csv', 'application/vnd.apache.arrow.stream')).toBe('csv');
    expect(chooseFormat(undefined, 'text/html, application/vnd.apache.arrow.stream;q=0.9, text/csv')).toBe('arrow');
    expect(chooseFormat(undefined, '*/*')).toBe('json');
    expect(chooseFormat(undefined, '*/*', 'parquet')).toBe('parquet');
    expect(chooseFormat(undefined, undefined, 'parquet')).toBe('parquet');
  });

  it('names the field of an unknown format', () => {
    expect(() => chooseFormat('xml', undefined)).toThrow(expect.objectContaining({ code: 'VALIDATION_FAILED', message: expect.stringMatching(/^format: must be one of json, jsonl, csv, parquet, arrow/) }));
  });
});
