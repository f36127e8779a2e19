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

async function startRedis() {
  const port = await freePort();
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
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

async function startHttp(command, args, env, url) {
  const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'inherit'] });
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

module.exports = { ROOT, BIN, freePort, startRedis, featurelake, startHttp, stop, sleep };
