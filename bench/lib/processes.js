'use strict';
/** Processes the benchmarks start: a private redis-server, the featurelake binary, the baseline server. */
const { spawn, spawnSync } = require('node:child_process');
const net = require('node:net');
const path = require('node:path');

const ROOT = path.join(__dirname, '..', '..');
const BIN = path.join(ROOT, 'bin', 'featurelake.js');

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/**
 * CPU pinning: on a 2-core machine the server under test gets core 0 to itself while Redis and
 * the load generator share core 1, so that they do not steal the server's time slices (each
 * server is measured the same way). Without taskset, nothing is pinned.
 */
const HAS_TASKSET = spawnSync('taskset', ['-c', '0', 'true']).status === 0;
function pinned(core, command, args) {
  return HAS_TASKSET ? ['taskset', ['-c', String(core), command, ...args]] : [command, args];
}

async function startRedis() {
  const port = await freePort();
  const [command, args] = pinned(1, 'redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no']);
  const child = spawn(command, args, { stdio: 'ignore' });
  const url = `redis://127.0.0.1:${port}`;
  for (let i = 0; i < 100; i++) {
    if (spawnSync('redis-cli', ['-p', String(port), 'ping'], { encoding: 'utf8' }).stdout.trim() === 'PONG') return { url, port, child };
    await sleep(50);
  }
  throw new Error('redis-server did not start');
}

function featurelake(repo, env, ...args) {
  const result = spawnSync(process.execPath, [BIN, '--repo', repo, ...args], { encoding: 'utf8', env: { ...process.env, ...env }, maxBuffer: 2 ** 26 });
  if (result.status !== 0) throw new Error(`featurelake ${args.join(' ')} failed:\n${result.stderr}${result.stdout}`);
  return result.stdout;
}

/**
 * Starts a server under test, pinned to core 0, and waits for its /health. `stdout`: where its
 * standard output (featurelake's JSON log) goes, a file descriptor; ignored by default.
 */
async function startHttp(command, args, env, url, { stdout = 'ignore' } = {}) {
  const [cmd, cmdArgs] = pinned(0, command, args);
  const child = spawn(cmd, cmdArgs, { env: { ...process.env, NODE_NO_WARNINGS: '1', ...env }, stdio: ['ignore', stdout, 'inherit'] });
  for (let i = 0; i < 200; i++) {
    try {
      const response = await fetch(`${url}/health`);
      if (response.ok) return child;
    } catch {
      // not yet listening
    }
    await sleep(50);
  }
  child.kill();
  throw new Error(`${url} did not come up`);
}

function stop(child) {
  return new Promise((resolve) => {
    if (!child || child.exitCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

module.exports = { ROOT, BIN, HAS_TASKSET, pinned, freePort, startRedis, featurelake, startHttp, stop, sleep };
