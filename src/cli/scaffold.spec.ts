import { scaffold } from './scaffold';

describe('the repo featurelake init writes', () => {
  const now = new Date('2026-12-04T10:42:00Z');

  it('names the project and keeps its lake and state inside the repo', () => {
    const files = Object.fromEntries(scaffold('rides', now).map((f) => [f.path, f.text]));
    expect(Object.keys(files).sort()).toEqual(['.gitignore', 'data/driver_stats.csv', 'definitions.yaml', 'featurelake.yaml']);
    expect(files['featurelake.yaml']).toMatch(/^project: rides$/m);
    expect(files['featurelake.yaml']).toMatch(/uri: file:\/\/\.featurelake\/lake/);
    expect(files['.gitignore']).toBe('.featurelake/\n');
  });

  it('writes a week of hourly rows for five drivers, ending at the hour before now, the same for the same now', () => {
    const csv = scaffold('rides', now).find((f) => f.path === 'data/driver_stats.csv')!.text;
    const lines = csv.trim().split('\n');
    expect(lines[0]).toBe('driver_id,event_timestamp,created,conv_rate,acc_rate,avg_daily_trips');
    expect(lines).toHaveLength(1 + 7 * 24 * 5);
    expect(lines[1]).toMatch(/^1001,2026-11-27T10:00:00Z,2026-11-27T10:00:00Z,/);
    expect(lines.at(-1)).toMatch(/^1005,2026-12-04T09:00:00Z,/);
    expect(scaffold('rides', now)).toEqual(scaffold('rides', now));
  });
});
