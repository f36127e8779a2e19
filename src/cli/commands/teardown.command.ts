import { Command } from 'commander';
import { Teardown } from '../../materialization/teardown';
import { GlobalOptions, withServices } from '../context';
import { count } from '../output';

export function teardownCommand(program: Command, globals: () => GlobalOptions): void {
  program
    .command('teardown')
    .description("remove the project's online keys and every feature view's offline tables (datasets and the registry stay); needs --yes")
    .option('--yes', 'go ahead (without it, teardown says what it would remove and exits 1)')
    .action((options: { yes?: boolean }) =>
      withServices(globals(), async (get) => {
        const result = await get(Teardown).run(options.yes === true);
        console.log(
          `Tore down project ${result.project}: removed ${count(result.onlineKeys)} online keys and the offline tables of ${count(result.offlineViews)} feature views ` +
            `(${count(result.offlineObjects)} lake objects). Materialize to build them again.`,
        );
      }),
    );
}
