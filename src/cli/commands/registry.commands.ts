import { Command } from 'commander';
import { formatPlan } from '../../registry/plan';
import { RegistryService } from '../../registry/registry.service';
import { GlobalOptions, withServices } from '../context';

export function registryCommands(program: Command, globals: () => GlobalOptions): void {
  program
    .command('plan')
    .description('show what apply would change in the registry')
    .action(() =>
      withServices(globals(), async (get) => {
        const plan = await get(RegistryService).plan();
        console.log(`Registry version: ${plan.baseVersion ?? 'none applied yet'}`);
        for (const line of formatPlan(plan)) console.log(line);
      }),
    );

  program
    .command('apply')
    .description('validate the feature repo and store its definitions as a new registry version')
    .action(() =>
      withServices(globals(), async (get) => {
        const result = await get(RegistryService).apply();
        for (const line of formatPlan(result.plan)) console.log(line);
        console.log(
          result.applied
            ? `Applied registry version ${result.version.version} (project ${result.version.project}).`
            : `Registry stays at version ${result.version.version}.`,
        );
      }),
    );
}
