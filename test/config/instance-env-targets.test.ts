import { describe, expect, it } from 'vitest';
import { PanelConfigSchema } from '../../app/config/schema.js';

const TARGET = { path: '.env', dialect: 'dotenv', keys: { COMFYUI_BEARER_TOKEN: 'token' } } as const;
const inst = (id: string, port: number, extra: Record<string, unknown> = {}) => ({ id, container: { name: `c-${id}`, hostPort: port }, ...extra });
const issues = (value: unknown) => {
  const r = PanelConfigSchema.safeParse(value);
  return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
};

describe('instances: env targets are one instance\'s own', () => {
  it('refuses two instances sharing the top-level env target, naming the second and the first', () => {
    expect(issues({ env: { root: '/srv/p', targets: [TARGET] }, instances: [inst('a', 8001), inst('b', 8002)] })).toEqual([
      'instances.1.env.targets.0.path: env target /srv/p/.env is another instance\'s file: give this instance an env section of its own (its own root or target paths) (instance a has the same)',
    ]);
  });

  it('refuses one absolute file named by two instances, and ./ spellings of one relative file', () => {
    const abs = { targets: [{ ...TARGET, path: '/srv/shared.env' }] };
    expect(issues({ instances: [inst('a', 8001, { env: abs }), inst('b', 8002, { env: { root: '/x', ...abs } })] })).toHaveLength(1);
    expect(issues({ instances: [inst('a', 8001, { env: { root: '/p', targets: [TARGET] } }), inst('b', 8002, { env: { root: '/p', targets: [{ ...TARGET, path: './.env' }] } })] })).toHaveLength(1);
  });

  it('accepts instances with their own roots, and one instance naming its file twice', () => {
    expect(issues({ instances: [inst('a', 8001, { env: { root: '/p/a', targets: [TARGET, { ...TARGET, dialect: 'compose' }] } }), inst('b', 8002, { env: { root: '/p/b', targets: [TARGET] } })] })).toEqual([]);
  });
});
