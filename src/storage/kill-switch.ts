import { ObjectStore } from './object-store';

/** The writes a kill point can be set on. */
const OPERATIONS = ['put', 'putFile', 'putIfAbsent', 'delete'] as const;
type Operation = (typeof OPERATIONS)[number];

/**
 * Fault injection for tests (`FEATURELAKE_KILL_AT=before:delete:2`, `after:putIfAbsent:1`):
 * wraps the lake so that the process kills itself (SIGKILL: no cleanup, no shutdown hook) just
 * before or just after the Nth call of one write — the exact crash points kill -9 tests need,
 * on a machine where a timed kill lands anywhere. Unset (always, outside tests): the store as is.
 */
export function withKillSwitch(store: ObjectStore, spec: string | undefined): ObjectStore {
  if (!spec) return store;
  const match = /^(before|after):(\w+):(\d+)$/.exec(spec);
  if (!match || !(OPERATIONS as readonly string[]).includes(match[2])) throw new Error(`FEATURELAKE_KILL_AT: expected before|after:${OPERATIONS.join('|')}:N, got ${JSON.stringify(spec)}`);
  const [, when, operation, nth] = match as unknown as [string, 'before' | 'after', Operation, string];
  let calls = 0;
  const kill = () => process.kill(process.pid, 'SIGKILL');
  return new Proxy(store, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver) as unknown;
      if (property !== operation || typeof value !== 'function') return value;
      return async (...args: unknown[]) => {
        const last = ++calls === Number(nth);
        if (last && when === 'before') kill();
        const result = await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
        if (last) kill();
        return result;
      };
    },
  });
}
