import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';

export const BIN = join(__dirname, '../../bin/featurelake.js');

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the built `featurelake` binary (npm test builds dist/ first) with a clean featurelake env. */
export function featurelake(repo: string, args: string[], env: NodeJS.ProcessEnv = {}): CliResult {
  const result = spawnSync(process.execPath, [BIN, '--repo', repo, ...args], { encoding: 'utf8', env: { ...cleanEnv(), ...env }, timeout: 60_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/**
 * The same, without blocking this process: needed when a server the CLI talks to (s3rver) runs
 * inside the test process, which spawnSync would freeze.
 */
export function featurelakeAsync(repo: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, '--repo', repo, ...args], { env: { ...cleanEnv(), ...env }, stdio: 'pipe' });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

export function startServer(repo: string, port: number, env: NodeJS.ProcessEnv = {}): ChildProcess {
  return spawn(process.execPath, [BIN, '--repo', repo, 'serve', '--port', String(port)], { env: { ...cleanEnv(), ...env }, stdio: 'pipe' });
}

/** The environment without FEATURELAKE_* and AWS_* variables a developer may have set. */
export function cleanEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('FEATURELAKE_') && !k.startsWith('AWS_')));
}

export async function waitForHealth(url: string, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}`);
    try {
      if ((await fetch(`${url}/health`)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`server at ${url} did not become healthy`);
}

export function stopServer(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve(child.exitCode);
    child.once('exit', (code) => resolve(code));
    child.kill('SIGTERM');
  });
}
