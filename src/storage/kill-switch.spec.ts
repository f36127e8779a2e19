import { withKillSwitch } from './kill-switch';
import { ObjectStore } from './object-store';

describe('withKillSwitch', () => {
  const store = { location: 'file:///lake', delete: async () => undefined } as unknown as ObjectStore;

  it('leaves the store as it is when no kill point is set', () => {
    expect(withKillSwitch(store, undefined)).toBe(store);
    expect(withKillSwitch(store, '')).toBe(store);
  });

  it('refuses a kill point it cannot read, naming the variable and the form', () => {
    expect(() => withKillSwitch(store, 'sometimes')).toThrow(/FEATURELAKE_KILL_AT: expected before\|after:put\|putFile\|putIfAbsent\|delete:N, got "sometimes"/);
    expect(() => withKillSwitch(store, 'before:get:1')).toThrow(/got "before:get:1"/);
  });

  it('passes calls through until the chosen one (which the e2e kill tests take)', async () => {
    const wrapped = withKillSwitch(store, 'before:delete:3');
    expect(wrapped.location).toBe('file:///lake');
    await wrapped.delete(['a']);
    await wrapped.delete(['b']); // the third call would end the process
  });
});
