#!/usr/bin/env node
'use strict';
// The compiled CLI lives in dist/ (built by `npm ci` through the prepare script, or `npm run build`).
const path = require('node:path');
const fs = require('node:fs');
const cli = path.join(__dirname, '..', 'dist', 'cli.js');
if (!fs.existsSync(cli)) {
  console.error('featurelake is not built yet: run `npm run build` (npm ci does it for you).');
  process.exit(1);
}
require(cli)
  .main(process.argv)
  .then((code) => {
    if (code !== 0) process.exit(code);
  });
