import { describe, expect, it } from 'vitest';
import { flipTo, liveCopy, resolveObjectKey, resolveTable, restoredCopy, sharesResources } from '../../../functions/core/dr/pointer.ts';
import { DrTargets, configuredDrTargets, defaultDrTargets, findTarget } from '../../../functions/core/dr/targets.ts';
import { loadConfig } from '../../../functions/handlers/shared/config.ts';

/** The DR targets a handler gets from this environment. */
const loadDrTargets = (env: Record<string, string>) => configuredDrTargets(loadConfig({ MAESTRO_STATE_TABLE: 'maestro-state', ...env }));

const [target] = defaultDrTargets({ table: 'maestro-demo', bucket: 'maestro-demo' });

describe('the traffic pointer', () => {
  it('resolves to the target itself while nothing was flipped', () => {
    expect(resolveTable(target, undefined, 'maestro-demo')).toBe('maestro-demo');
    expect(resolveObjectKey(target, undefined, 'maestro-demo', 'notes/a.txt')).toEqual({ bucket: 'maestro-demo', key: 'notes/a.txt' });
    expect(liveCopy(target, undefined).copyId).toBe('origin');
  });

  it('resolves to the restored copy after a flip, keeping the old copy for rollback', () => {
    const copy = restoredCopy(target, '0123abcd-4567-89ef-0123-456789abcdef');
    expect(copy.copyId).toBe('r0123abcd4567');
    const pointer = flipTo(target, undefined, copy, { jobId: 'j', principal: 'ops', at: new Date(0) });
    expect(pointer).toMatchObject({ version: 1, live: { copyId: copy.copyId }, previous: { copyId: 'origin' } });
    expect(resolveTable(target, pointer, 'maestro-demo')).toBe('maestro-demo-r0123abcd4567');
    expect(resolveObjectKey(target, pointer, 'maestro-demo', 'notes/a.txt')).toEqual({ bucket: 'maestro-demo', key: '.maestro-dr/r0123abcd4567/notes/a.txt' });
    expect(resolveTable(target, pointer, 'unrelated')).toBe('unrelated');
    const again = flipTo(target, pointer, restoredCopy(target, 'ffff0000-0000'), { jobId: 'k', principal: 'ops', at: new Date(0) });
    expect(again).toMatchObject({ version: 2, previous: { copyId: copy.copyId } });
  });

  it('a restored copy never shares a resource with the live one; the same copy does', () => {
    const copy = restoredCopy(target, 'abc');
    expect(sharesResources(copy, liveCopy(target, undefined))).toBe(false);
    expect(sharesResources(liveCopy(target, undefined), liveCopy(target, undefined))).toBe(true);
    expect(sharesResources(copy, copy)).toBe(true);
  });
});

describe('DR targets', () => {
  it('default to the demo target; MAESTRO_DR_TARGETS declares others, validated with the field named', () => {
    expect(loadDrTargets({}).map((t) => [t.name, t.tables, t.prefixes])).toEqual([['demo', ['maestro-demo'], [{ bucket: 'maestro-demo', prefix: '' }]]]);
    const targets = loadDrTargets({ MAESTRO_DR_TARGETS: JSON.stringify([{ name: 'orders', tables: ['orders'], backupSchedule: 'rate(1 day)' }]) });
    expect(findTarget(targets, 'orders')).toMatchObject({ maxQuiesceSeconds: 600, compression: 'gzip', backupSchedule: 'rate(1 day)' });
    expect(() => loadDrTargets({ MAESTRO_DR_TARGETS: '[{"name":"Bad Name","tables":["t1x"]}]' })).toThrow(/0\.name/);
    expect(() => loadDrTargets({ MAESTRO_DR_TARGETS: '[{"name":"empty"}]' })).toThrow(/at least one table or prefix/);
    expect(() => findTarget(targets, 'nope')).toThrow(expect.objectContaining({ name: 'DrTargetNotFound', field: 'target' }));
    expect(
      DrTargets.safeParse([
        { name: 'a', tables: ['abc'] },
        { name: 'a', tables: ['abc'] },
      ]).success,
    ).toBe(false);
  });
});
