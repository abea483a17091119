import { describe, expect, it } from 'vitest';
import { instantiateTemplate, validateTemplate } from '../../functions/core/templates/instantiate-template.ts';

const base = {
  name: 'put-note',
  goal: 'write the note for {{day}}',
  mode: 'APPLY',
  reasonForAccess: 'scheduled note for {{day}}',
  params: {
    day: { type: 'string', pattern: '^[0-9]{4}-[0-9]{2}-[0-9]{2}$' },
    count: { type: 'integer', minimum: 1, maximum: 10, default: 2 },
    body: { type: 'string', maxLength: 100, default: 'hello' },
  },
  tasks: [{ action: 's3.put-object', params: { bucket: 'maestro-demo', key: 'notes/{{day}}.txt', body: '{{body}}', meta: { copies: '{{count}}' } } }],
};

describe('run templates', () => {
  it('substitutes typed values: a whole-value placeholder keeps its type, embedded ones become text', () => {
    const { definition } = validateTemplate(base);
    const { body } = instantiateTemplate(definition, { day: '2026-12-02', count: 3 });
    expect(body.goal).toBe('write the note for 2026-12-02');
    expect(body.reasonForAccess).toBe('scheduled note for 2026-12-02');
    expect(body.tasks).toEqual([
      { action: 's3.put-object', params: { bucket: 'maestro-demo', key: 'notes/2026-12-02.txt', body: 'hello', meta: { copies: 3 } } },
    ]);
  });

  it('refuses a parameter of the wrong type, an unknown one, a missing one and one outside its schema, naming it', () => {
    const { definition } = validateTemplate(base);
    expect(() => instantiateTemplate(definition, { day: 20261202 })).toThrow(expect.objectContaining({ field: 'params.day' }));
    expect(() => instantiateTemplate(definition, { day: '2026-12-02', extra: 1 })).toThrow(expect.objectContaining({ field: 'params.extra' }));
    expect(() => instantiateTemplate(definition, {})).toThrow(expect.objectContaining({ field: 'params.day' }));
    expect(() => instantiateTemplate(definition, { day: '../../etc' })).toThrow(expect.objectContaining({ field: 'params.day' }));
    expect(() => instantiateTemplate(definition, { day: '2026-12-02', count: 11 })).toThrow(expect.objectContaining({ field: 'params.count' }));
  });

  it('never lets a value bring structure: an object or array value is refused, and substituted text is not scanned again', () => {
    const { definition } = validateTemplate(base);
    expect(() => instantiateTemplate(definition, { day: '2026-12-02', body: { injected: true } })).toThrow(expect.objectContaining({ field: 'params.body' }));
    const { body } = instantiateTemplate(definition, { day: '2026-12-02', body: '{{day}}' });
    expect((body.tasks as { params: { body: string } }[])[0].params.body).toBe('{{day}}');
  });

  it('refuses placeholders in keys, in the action, in the environment, undeclared ones and malformed ones', () => {
    const task = (params: object, action = 's3.put-object') => ({ ...base, tasks: [{ action, params }] });
    expect(() => validateTemplate(task({ '{{day}}': 'x' }))).toThrow(/a key cannot hold a placeholder/);
    expect(() => validateTemplate(task({}, 's3.{{day}}'))).toThrow(expect.objectContaining({ field: 'tasks[0].action' }));
    expect(() => validateTemplate({ ...base, environment: '{{day}}' })).toThrow(expect.objectContaining({ field: 'environment' }));
    expect(() => validateTemplate(task({ key: '{{nope}}' }))).toThrow(expect.objectContaining({ field: 'tasks[0].params.key' }));
    expect(() => validateTemplate(task({ key: '{{ day.x }}' }))).toThrow(/must open a placeholder/);
    expect(() => validateTemplate({ ...base, params: { ...base.params, count: { type: 'integer', maximum: 1, default: 2 } } })).toThrow(
      expect.objectContaining({ field: 'params.count.default' }),
    );
    expect(() => validateTemplate({ ...base, params: { day: { type: 'object' } } })).toThrow(expect.objectContaining({ field: 'params.day.type' }));
  });

  it('gives the same content the same digest (so pushing it again makes no new version)', () => {
    expect(validateTemplate(base).digest).toBe(validateTemplate(structuredClone(base)).digest);
    expect(validateTemplate({ ...base, goal: 'another {{day}}' }).digest).not.toBe(validateTemplate(base).digest);
  });
});
