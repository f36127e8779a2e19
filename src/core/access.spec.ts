import { parseApiKeyList, roleAllows } from './access';

const DIGEST = 'a'.repeat(64);

describe('roles', () => {
  it('orders reader < writer < admin', () => {
    expect(roleAllows('admin', 'reader')).toBe(true);
    expect(roleAllows('writer', 'writer')).toBe(true);
    expect(roleAllows('writer', 'admin')).toBe(false);
    expect(roleAllows('reader', 'writer')).toBe(false);
  });
});

describe('parseApiKeyList', () => {
  it('reads NAME:ROLE:SHA256 entries, lower-casing the digest', () => {
    expect(parseApiKeyList(` serving:reader:${DIGEST.toUpperCase()} , ops:admin:${'b'.repeat(64)},`)).toEqual({
      keys: [
        { name: 'serving', role: 'reader', sha256: DIGEST },
        { name: 'ops', role: 'admin', sha256: 'b'.repeat(64) },
      ],
      problems: [],
    });
  });

  it('reports each bad entry without echoing its digest', () => {
    const { keys, problems } = parseApiKeyList(`a:root:${DIGEST},b:reader:abc,c:reader:${DIGEST}:x`);
    expect(keys).toEqual([]);
    expect(problems).toHaveLength(3);
    expect(problems[0]).toContain('entry 1 ("a")');
    expect(problems.join('\n')).not.toContain(DIGEST);
  });
});
