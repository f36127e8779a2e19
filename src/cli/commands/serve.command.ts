import { Logger } from '@nestjs/common';
import { Command } from 'commander';
import { claimServerFile, removeServerFile, updateServerFile } from '../../common/server-file';
import { createHttpApp } from '../../http-app';
import { cliConfig, GlobalOptions } from '../context';

export function serveCommand(program: Command, globals: () => GlobalOptions): void {
  program
    .command('serve')
    .description('run the HTTP server (Feast-compatible feature server plus the featurelake API)')
    .option('--port <port>', 'port to listen on', '6566')
    .option('--host <host>', 'address to bind', '127.0.0.1')
    .action(async (options: { port: string; host: string }) => {
      const config = cliConfig(globals());
      const startedAt = new Date().toISOString();
      // Before anything opens a file: a second server on this state folder stops here, naming the first.
      claimServerFile(config.stateDir, { pid: process.pid, url: null, startedAt });
      // Nest's shutdown hooks close the app on SIGINT/SIGTERM and then re-raise the signal, so
      // 'exit' handlers do not run: remove the address file before they do.
      const forget = () => removeServerFile(config.stateDir, process.pid);
      process.on('exit', forget);
      for (const signal of ['SIGINT', 'SIGTERM'] as const) process.prependListener(signal, forget);
      const app = await createHttpApp(config);
      await app.listen(Number(options.port), options.host);
      const url = (await app.getUrl()).replace('[::1]', 'localhost');
      updateServerFile(config.stateDir, { pid: process.pid, url, startedAt });
      // Through the app's logger: the server's stdout is JSON lines only.
      new Logger('Server').log(`featurelake serving project ${config.project} at ${url} (OpenAPI: ${url}/docs)`);
    });
}
