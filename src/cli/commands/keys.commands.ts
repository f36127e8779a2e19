import { Command, InvalidArgumentError } from 'commander';
import { randomBytes } from 'node:crypto';
import { sha256Hex } from '../../auth/api-key.authenticator';
import { isIdentifier } from '../../core/identifiers';
import { isRole, Role, ROLES } from '../../core/access';

/**
 * `featurelake keys create`: a new random API key and the digest to configure. Only the digest
 * goes into featurelake.yaml or FEATURELAKE_API_KEYS; the key is shown once, to hand to a client.
 */
export function keysCommands(program: Command): void {
  const keys = program.command('keys').description('API keys for the HTTP API');
  keys
    .command('create')
    .description('print a new random API key and the configuration line that grants it a role')
    .requiredOption('--name <name>', 'who the key is for (shown in 403 messages and metrics, never the key)', (value) => {
      if (!isIdentifier(value)) throw new InvalidArgumentError('must be an identifier (letters, digits, _)');
      return value;
    })
    .requiredOption('--role <role>', ROLES.join(' | '), (value) => {
      if (!isRole(value)) throw new InvalidArgumentError(`must be one of ${ROLES.join(', ')}`);
      return value;
    })
    .action((options: { name: string; role: Role }) => {
      const key = `fl_${randomBytes(32).toString('base64url')}`;
      const digest = sha256Hex(key);
      console.log(`key (give it to the client; it is not stored anywhere): ${key}`);
      console.log(`featurelake.yaml:        auth: { keys: [{ name: ${options.name}, role: ${options.role}, sha256: ${digest} }] }`);
      console.log(`or the environment:      FEATURELAKE_API_KEYS=${options.name}:${options.role}:${digest}`);
    });
}
