import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { ScratchSpace } from './scratch-space';

describe('ScratchSpace', () => {
  let state: string;
  beforeEach(() => (state = mkdtempSync(join(tmpdir(), 'fl-scratch-'))));
  afterEach(() => rmSync(state, { recursive: true, force: true }));

  it("makes this process's folder for a DuckDB spill folder (DuckDB creates no parent), and nothing below it", () => {
    const scratch = new ScratchSpace(state);
    const spill = scratch.duckDbDir('online');
    expect(dirname(spill)).toBe(scratch.dir);
    expect(existsSync(scratch.dir)).toBe(true);
    expect(existsSync(spill)).toBe(false);
  });
});
