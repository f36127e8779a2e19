import { DatasetNotFoundError } from '../common/errors';
import { describeError } from './output';

describe('describeError', () => {
  it('prints every failure as error [CODE]: message', () => {
    expect(describeError(new DatasetNotFoundError('dataset "x" is not declared'))).toBe('error [DATASET_NOT_FOUND]: dataset "x" is not declared');
    const missing = Object.assign(new Error("ENOENT: no such file or directory, open '/a/b.csv'"), { code: 'ENOENT', path: '/a/b.csv' });
    expect(describeError(missing)).toBe('error [FILE_NOT_FOUND]: no such file or folder: /a/b.csv');
    expect(describeError(Object.assign(new Error('EACCES'), { code: 'EACCES', path: '/root/x' }))).toBe('error [PERMISSION_DENIED]: permission denied: /root/x');
    expect(describeError(new Error('IO Error: something DuckDB says'))).toBe('error [INTERNAL_ERROR]: IO Error: something DuckDB says');
    expect(describeError(Object.assign(new Error('no space'), { code: 'ENOSPC', path: '/d' }))).toMatch(/^error \[STORAGE_FULL\]: /);
  });
});
