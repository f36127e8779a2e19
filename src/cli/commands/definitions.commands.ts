import { Command } from 'commander';
import { stringify } from 'yaml';
import { EntityNotFoundError, ValidationFailedError } from '../../common/errors';
import { FeatureCatalog } from '../../core/catalog';
import { DefinitionMetadata } from '../../core/definitions';
import { formatDuration } from '../../core/duration';
import { toRegistryBody } from '../../registry/registry.mapper';
import { RegistryService } from '../../registry/registry.service';
import { GlobalOptions, withServices } from '../context';
import { table } from '../output';

type Body = ReturnType<typeof toRegistryBody>;

/** One kind of definition as Feast's CLI shows it: `list` is a table, `describe NAME` its YAML. */
interface Kind<T> {
  command: string;
  noun: string;
  items: (body: Body) => T[];
  header: string[];
  row: (item: T) => string[];
  notFound: (name: string, catalog: FeatureCatalog) => never;
}

type Named = { name: string } & DefinitionMetadata;

/** Each kind is typed by its own items; the commands below only need what every one has. */
function kindOf<T extends Named>(k: Kind<T>): Kind<Named> {
  return k as unknown as Kind<Named>;
}

const KINDS = [
  kindOf({
    command: 'entities',
    noun: 'entity',
    items: (b: Body) => b.entities,
    header: ['entity', 'join keys', 'description'],
    row: (e: Body['entities'][number]) => [e.name, e.join_keys.map((k) => `${k.name}:${k.type}`).join(', '), e.description ?? ''],
    notFound: (name: string) => {
      throw new EntityNotFoundError(`entity ${JSON.stringify(name)} is not defined`, { entity: name });
    },
  }),
  kindOf({
    command: 'feature-views',
    noun: 'feature view',
    items: (b: Body) => b.feature_views,
    header: ['feature view', 'entities', 'source', 'ttl', 'features', 'online'],
    row: (v: Body['feature_views'][number]) => [v.name, v.entities.join(', '), v.source, v.ttl_seconds === null ? 'never' : formatDuration(v.ttl_seconds), String(v.features.length), v.online ? 'yes' : 'no'],
    notFound: (name: string, catalog: FeatureCatalog) => catalog.view(name) as never,
  }),
  kindOf({
    command: 'feature-services',
    noun: 'feature service',
    items: (b: Body) => b.feature_services,
    header: ['feature service', 'features', 'description'],
    row: (s: Body['feature_services'][number]) => [s.name, s.features.join(', '), s.description ?? ''],
    notFound: (name: string, catalog: FeatureCatalog) => catalog.featureService(name) as never,
  }),
];

export function definitionCommands(program: Command, globals: () => GlobalOptions): void {
  for (const kind of KINDS) {
    const group = program.command(kind.command).description(`the applied ${kind.noun} definitions`);
    group
      .command('list', { isDefault: true })
      .description(`a table of the applied ${kind.noun} definitions`)
      .option('--tags <key:value...>', 'only those with every one of these tags')
      .action((options: { tags?: string[] }) =>
        withServices(globals(), async (get) => {
          const wanted = parseTagFilters(options.tags ?? []);
          const items = kind.items(await appliedBody(get(RegistryService))).filter((item) => wanted.every(([k, v]) => item.tags?.[k] === v));
          console.log(table([...kind.header, 'owner', 'tags'], items.map((item) => [...kind.row(item), item.owner ?? '', tagText(item.tags)])));
        }),
      );
    group
      .command('describe')
      .description(`one applied ${kind.noun} definition, as YAML`)
      .argument('<name>')
      .action((name: string) =>
        withServices(globals(), async (get) => {
          const registry = get(RegistryService);
          const item = kind.items(await appliedBody(registry)).find((i) => i.name === name);
          if (!item) kind.notFound(name, await registry.catalog());
          process.stdout.write(describeYaml(item));
        }),
      );
  }

  program
    .command('registry-dump')
    .description('the applied registry (every definition and its version), as JSON')
    .action(() => withServices(globals(), async (get) => console.log(JSON.stringify(await appliedBody(get(RegistryService)), null, 2))));
}

/** The lake's latest applied version (never a cached one), in the repo's vocabulary. */
async function appliedBody(registry: RegistryService): Promise<Body> {
  await registry.refresh();
  return toRegistryBody((await registry.catalog()).registry);
}

/** A definition as YAML in the repo's own vocabulary; absent fields are left out. */
export function describeYaml(value: unknown): string {
  return stringify(JSON.parse(JSON.stringify(value)), { lineWidth: 0 });
}

function parseTagFilters(filters: string[]): [string, string][] {
  return filters.map((filter) => {
    const at = filter.indexOf(':');
    if (at <= 0) throw new ValidationFailedError(`--tags ${JSON.stringify(filter)}: expected key:value`, { field: 'tags' });
    return [filter.slice(0, at), filter.slice(at + 1)];
  });
}

function tagText(tags: Record<string, string> | undefined): string {
  return Object.entries(tags ?? {}).map(([k, v]) => `${k}=${v}`).join(', ');
}
