import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { backup, readManifest, restore, writeVault } from '../support/dr.ts';
import { stack, clients, repo, keyOf, tableExists, resign, useDrStack } from '../support/dr-fixture.ts';

useDrStack('drfail');

describe('a restore that fails mid-way ends FAILED with the live data untouched', () => {
  it('discards its half-written copy and never flips', async () => {
    const snapshot = await backup(stack);
    const signed = await readManifest(clients.s3, snapshot.result.location);
    // An insider signs an artifact whose last table record has no key: it proves itself, and fails while being applied.
    const tablePart = signed.manifest.parts.find((p) => p.source.startsWith('table:'))!;
    const good = Array.from({ length: 30 }, (_, i) => JSON.stringify({ item: { id: { S: `x-${i}` } } }));
    const bytes = gzipSync(`${[...good, JSON.stringify({ item: { nokey: { S: 'x' } } })].join('\n')}\n`);
    await writeVault(clients.s3, tablePart.key, bytes);
    Object.assign(tablePart, { records: 31, bytes: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') });
    const source = signed.manifest.sources.find((s) => s.id === tablePart.source)!;
    source.records = signed.manifest.parts.filter((p) => p.source === source.id).reduce((sum, p) => sum + p.records, 0);
    await writeVault(clients.s3, keyOf(snapshot.result.location), JSON.stringify(await resign(signed)));

    const before = await repo.getPointer('demo');
    const live = await clients.docs.send(new GetCommand({ TableName: stack.demoTable, Key: { id: 'item-0001' } }));
    const job = await restore(stack, { snapshotId: snapshot.id });
    expect(job.state).toBe('FAILED');
    expect(job.verified).toBe(true);
    expect(job.steps.map((s: any) => `${s.name}:${s.state}`)).toEqual([
      'Stage:SUCCEEDED',
      'Apply:FAILED',
      'Validate:SKIPPED',
      'AwaitApproval:SKIPPED',
      'FlipPointer:SKIPPED',
    ]);
    expect(await repo.getPointer('demo')).toEqual(before);
    expect(await tableExists(Object.values(job.copy.tables)[0] as string)).toBe(false);
    expect((await clients.docs.send(new GetCommand({ TableName: stack.demoTable, Key: { id: 'item-0001' } }))).Item).toEqual(live.Item);
  });
});

describe('a backup that fails', () => {
  it('ends FAILED and still lifts the quiesce', async () => {
    stack.reconfigure({
      dr: {
        targets: [
          { name: 'demo', tables: [stack.demoTable], prefixes: [{ bucket: stack.demoBucket, prefix: '' }] },
          { name: 'broken', tables: ['no-such-table-anywhere'], prefixes: [{ bucket: stack.demoBucket, prefix: 'notes/' }] },
        ],
      },
    });
    try {
      const job = await backup(stack, 'broken');
      expect(job.state).toBe('FAILED');
      expect(job.steps.map((s: any) => `${s.name}:${s.state}`)).toEqual([
        'Quiesce:SUCCEEDED',
        'Snapshot:FAILED',
        'Unquiesce:SUCCEEDED',
        'SignManifest:SKIPPED',
      ]);
      expect(await repo.listQuiesceFlags()).toEqual([]);
    } finally {
      stack.reconfigure();
    }
  });
});

describe('user-declared checks', () => {
  it('run on the restored copy; one failing ends the restore FAILED, the pointer unchanged', async () => {
    const demo = (checks: unknown[]) =>
      ({ dr: { targets: [{ name: 'demo', tables: [stack.demoTable], prefixes: [{ bucket: stack.demoBucket, prefix: '' }], checks }] } }) as Parameters<
        typeof stack.reconfigure
      >[0];
    const itemCheck = { kind: 'item', name: 'first item', table: stack.demoTable, key: { id: 'item-0001' }, expect: { tag: 'v1', n: 1, tags: ['a', 'b'] } };
    try {
      stack.reconfigure(demo([itemCheck, { kind: 'object', name: 'note', bucket: stack.demoBucket, key: 'notes/0.txt', contains: 'note 0' }]));
      const snapshot = await backup(stack);
      const test = await restore(stack, { snapshotId: snapshot.id, mode: 'TEST' });
      expect(test.state, JSON.stringify(test.error)).toBe('COMPLETE');
      expect(test.smokeTests.filter((t: any) => t.name.startsWith('check:')).map((t: any) => [t.name, t.passed])).toEqual([
        ['check:first item', true],
        ['check:note', true],
      ]);

      stack.reconfigure(demo([itemCheck, { kind: 'object', name: 'release notes', bucket: stack.demoBucket, key: 'notes/0.txt', contains: 'Release 2.0' }]));
      const before = await repo.getPointer('demo');
      const job = await restore(stack, { snapshotId: snapshot.id });
      expect(job.state).toBe('FAILED');
      expect(job.error).toMatchObject({ name: 'SmokeTestFailed', message: expect.stringContaining('check:release notes') });
      expect(job.steps.map((s: any) => `${s.name}:${s.state}`)).toEqual([
        'Stage:SUCCEEDED',
        'Apply:SUCCEEDED',
        'Validate:FAILED',
        'AwaitApproval:SKIPPED',
        'FlipPointer:SKIPPED',
      ]);
      expect(await repo.getPointer('demo')).toEqual(before);
      expect(await tableExists(Object.values(job.copy.tables)[0] as string)).toBe(false);
    } finally {
      stack.reconfigure();
    }
  });
});
