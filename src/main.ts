import 'reflect-metadata';
import { main } from './cli';

/** `node dist/main.js` runs the server, as `featurelake serve` does (used by containers). */
void main([process.argv[0], process.argv[1], 'serve', ...process.argv.slice(2)]).then((code) => {
  if (code !== 0) process.exit(code);
});
