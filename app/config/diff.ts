import type { ConfigChange } from '../contract/ops/health.js';

/** Every leaf of a JSON value by dotted path (arrays as a whole: a list of mounts or targets is one value). */
function leaves(value: unknown, prefix = '', out = new Map<string, string>()): Map<string, string> {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value)) leaves(v, prefix ? `${prefix}.${k}` : k, out);
  } else if (value !== undefined) out.set(prefix, JSON.stringify(value));
  return out;
}

/** An empty list configures nothing, as an absent one (container.command: [] overrides nothing). */
const same = (x: string | undefined, y: string | undefined) => (x === '[]' ? undefined : x) === (y === '[]' ? undefined : y);

/** What changes from one config to another, field by field (configs hold no secrets). */
export function configDiff(from: unknown, to: unknown): ConfigChange[] {
  const a = leaves(from);
  const b = leaves(to);
  const fields = [...new Set([...a.keys(), ...b.keys()])].sort();
  return fields.filter((f) => !same(a.get(f), b.get(f))).map((f) => ({ field: f, from: a.get(f) ?? '(unset)', to: b.get(f) ?? '(unset)' }));
}
