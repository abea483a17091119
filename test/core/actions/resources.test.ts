import { describe, expect, it } from 'vitest';
import { defaultCatalog } from '../../../functions/actions/catalog.ts';
import { parseResource } from '../../../functions/core/actions/resources.ts';

describe('the resource URI scheme', () => {
  it('takes every kind apart into kind, id and the parts policy may name', () => {
    expect(parseResource('s3://maestro-demo/notes/a b.txt')).toEqual({
      uri: 's3://maestro-demo/notes/a b.txt',
      kind: 's3',
      id: 'maestro-demo/notes/a b.txt',
      bucket: 'maestro-demo',
      key: 'notes/a b.txt',
    });
    expect(parseResource('dynamodb://maestro-demo')).toMatchObject({ kind: 'dynamodb', id: 'maestro-demo', table: 'maestro-demo' });
    expect(parseResource('dynamodb://maestro-demo/{"id":"x/y"}')).toMatchObject({ kind: 'dynamodb', id: 'maestro-demo/{"id":"x/y"}', table: 'maestro-demo' });
    expect(parseResource('https://api.example.com/a?b=1')).toMatchObject({ kind: 'url', id: 'https://api.example.com/a?b=1' });
    expect(parseResource('dr-restore://job-1')).toMatchObject({ kind: 'dr-restore', id: 'job-1' });
    expect(parseResource('noop://')).toMatchObject({ kind: 'none', id: '' });
    expect(parseResource('ssm:///app/dev/flag')).toMatchObject({ kind: 'ssm', id: '/app/dev/flag', parameter: '/app/dev/flag' });
    expect(parseResource('lambda://checkout:live')).toMatchObject({ kind: 'lambda', id: 'checkout:live', function: 'checkout', alias: 'live' });
    expect(parseResource('lambda://checkout')).toMatchObject({ kind: 'lambda', id: 'checkout' });
    expect(parseResource('lambda://checkout')).not.toHaveProperty('function');
    expect(parseResource('cloudwatch-alarm://checkout errors')).toMatchObject({ kind: 'cloudwatch-alarm', id: 'checkout errors', alarm: 'checkout errors' });
    expect(parseResource('not a uri')).toMatchObject({ kind: 'invalid' });
  });
});

describe('every built-in action declares its resources and examples', () => {
  const catalog = defaultCatalog();

  it('has at least one example per action, each a valid input', () => {
    for (const action of catalog.list()) {
      expect(action.examples.length, action.name).toBeGreaterThan(0);
      for (const example of action.examples) expect(action.schema.safeParse(example.params).success, `${action.name}: ${example.description}`).toBe(true);
    }
  });

  it('computes resources from params alone (no context, no I/O), each a URI of the scheme with an access mode', () => {
    for (const action of catalog.list()) {
      for (const example of action.examples) {
        const resources = action.resources(action.schema.parse(example.params));
        for (const resource of resources) {
          expect(['read', 'write']).toContain(resource.access);
          expect(parseResource(resource.uri).kind, resource.uri).not.toBe('invalid');
        }
      }
    }
    const resourcesOf = (name: string, params: unknown) => {
      const action = catalog.get(name);
      return action.resources(action.schema.parse(params));
    };
    expect(resourcesOf('s3.put-object', { bucket: 'maestro-demo', key: 'k/1', body: 'x' })).toEqual([{ uri: 's3://maestro-demo/k/1', access: 'write' }]);
    expect(resourcesOf('dynamodb.put-item', { table: 'maestro-state', item: { pk: 'CONTROL', sk: 'CONTROL' } })).toEqual([
      { uri: 'dynamodb://maestro-state', access: 'write' },
    ]);
    expect(resourcesOf('http.fetch', { url: 'https://api.example.com/x' })).toEqual([{ uri: 'https://api.example.com/x', access: 'read' }]);
    expect(resourcesOf('http.fetch', { url: 'file:///etc/passwd' })).toEqual([]);
    expect(resourcesOf('noop', {})).toEqual([]);
    expect(resourcesOf('dr.approve-restore', { jobId: 'j1' })).toEqual([{ uri: 'dr-restore://j1', access: 'write' }]);
    expect(resourcesOf('s3.delete-object', { bucket: 'maestro-demo', key: 'k/1' })).toEqual([{ uri: 's3://maestro-demo/k/1', access: 'write' }]);
    expect(resourcesOf('s3.copy-object', { source: { bucket: 'other', key: 'a' }, destination: { bucket: 'maestro-demo', key: 'b' } })).toEqual([
      { uri: 's3://other/a', access: 'read' },
      { uri: 's3://maestro-demo/b', access: 'write' },
    ]);
    expect(resourcesOf('dynamodb.update-item', { table: 'orders', key: { id: 'x' }, set: { a: 1 } })).toEqual([{ uri: 'dynamodb://orders', access: 'write' }]);
    expect(resourcesOf('dynamodb.delete-item', { table: 'orders', key: { id: 'x' } })).toEqual([{ uri: 'dynamodb://orders', access: 'write' }]);
  });
});
