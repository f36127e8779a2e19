'use strict';
/**
 * Lets a benchmark require the TypeScript test helpers (test/support/*.ts: s3rver with
 * conditional writes) as the test suite runs them: compiled on load by @swc/core, the same
 * compiler and options as jest's transform.
 */
const { transformFileSync } = require('@swc/core');

require.extensions['.ts'] = (module, filename) => {
  const { code } = transformFileSync(filename, {
    jsc: { parser: { syntax: 'typescript', decorators: true }, transform: { legacyDecorator: true, decoratorMetadata: true }, target: 'es2022' },
    module: { type: 'commonjs' },
  });
  module._compile(code, filename);
};
