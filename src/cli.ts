import 'reflect-metadata';
import { Command, CommanderError } from 'commander';
import { definitionCommands } from './cli/commands/definitions.commands';
import { featureCommands } from './cli/commands/features.commands';
import { initCommand } from './cli/commands/init.command';
import { teardownCommand } from './cli/commands/teardown.command';
import { keysCommands } from './cli/commands/keys.commands';
import { lakeCommands } from './cli/commands/lake.commands';
import { maintenanceCommands } from './cli/commands/maintenance.commands';
import { materializeCommands } from './cli/commands/materialize.commands';
import { registryCommands } from './cli/commands/registry.commands';
import { serveCommand } from './cli/commands/serve.command';
import { workerCommand } from './cli/commands/worker.command';
import { trainingSetCommands } from './cli/commands/training-sets.commands';
import { skewCommands } from './cli/commands/skew.commands';
import { GlobalOptions } from './cli/context';
import { describeError, versionLine } from './cli/output';

/** The `featurelake` command line: each command parses its arguments and calls one service. */
export function buildProgram(): Command {
  const program = new Command('featurelake')
    .description('feature store with its own data lake')
    .option('--repo <dir>', 'feature repo folder (holds featurelake.yaml)', process.env.FEATURELAKE_REPO ?? './feature-repo')
    .version(versionLine(), '--version', 'print the version of featurelake, Node and DuckDB')
    .showHelpAfterError()
    .exitOverride();
  program
    .command('version')
    .description('print the version of featurelake, Node and DuckDB')
    .action(() => console.log(versionLine()));
  const globals = () => program.opts<GlobalOptions>();
  initCommand(program);
  registryCommands(program, globals);
  definitionCommands(program, globals);
  lakeCommands(program, globals);
  maintenanceCommands(program, globals);
  materializeCommands(program, globals);
  teardownCommand(program, globals);
  featureCommands(program, globals);
  trainingSetCommands(program, globals);
  skewCommands(program, globals);
  keysCommands(program);
  serveCommand(program, globals);
  workerCommand(program, globals);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  try {
    await buildProgram().parseAsync(argv);
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode;
    console.error(describeError(error));
    return 1;
  }
}

if (require.main === module) {
  void main(process.argv).then((code) => {
    // `serve` and `worker` keep running; every other command ends here.
    if (code !== 0) process.exit(code);
  });
}
