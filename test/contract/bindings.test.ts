import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { apiOverTransport, ContractCallError } from '../../app/contract/envelope.js';
import { z } from 'zod';
import { operations, opNames, type OpName, type PanelHandlers } from '../../app/contract/index.js';
import { bindIpc, isTrustedFrame } from '../../main/ipc.js';

const exposed: Record<string, unknown> = {};
const invoked: { channel: string; input: unknown }[] = [];
vi.mock('electron', () => ({
  contextBridge: { exposeInMainWorld: (name: string, value: unknown) => (exposed[name] = value) },
  ipcRenderer: {
    invoke: async (channel: string, input: unknown) => {
      invoked.push({ channel, input });
      return { ok: true, result: 'pong' };
    },
    on: () => undefined,
    off: () => undefined,
  },
}));

const sorted = (xs: Iterable<string>) => [...xs].sort();

/** A valid input for each operation that needs one; every other takes {}. */
const VALID: Partial<Record<OpName, Record<string, unknown>>> = {
  configSave: { config: {} },
  configCheck: { config: {} },
  setupAdopt: { containerName: 'comfyui-qwen' },
  containerLogsFollow: { follow: true },
  envDiff: { a: '.env', b: '.env.example' },
  envShow: { file: '.env' },
  setupApply: { choices: {} },
  tokenImport: { from: 'env', file: '.env', key: 'COMFYUI_TOKEN' },
  tokenUnify: { to: 'fp:0123456789ab' },
  clientKeyCreate: { name: 'notebook', scope: 'read' },
  clientKeyRevoke: { name: 'notebook' },
  clientKeyRotate: { name: 'notebook', overlap: '1h' },
  fleetCapabilities: { workflow: 'smoke' },
};

/** No field accepts a symbol, except one declared to take anything (z.unknown, checked later). */
const WRONG = Symbol('wrong type');

/** What is wrong with an operation's input schema, given one valid input: [] when nothing. */
function inputProblems(schema: z.ZodType, valid: unknown): string[] {
  const objects = schema instanceof z.ZodObject ? [schema] : schema instanceof z.ZodUnion ? (schema.options as z.ZodType[]).filter((o) => o instanceof z.ZodObject) : [];
  if (!objects.length || (schema instanceof z.ZodUnion && objects.length !== schema.options.length)) return ['is not an object schema'];
  const problems: string[] = [];
  if (!schema.safeParse(valid).success) problems.push('refuses its valid input');
  const base = valid as Record<string, unknown>;
  if (schema.safeParse({ ...base, unexpectedKey: 1 }).success) problems.push('accepts an unknown key');
  const keys = new Set(objects.flatMap((o) => Object.entries(o.shape as Record<string, z.ZodType>).filter(([, f]) => !(f instanceof z.ZodUnknown)).map(([k]) => k)));
  for (const key of keys) if (schema.safeParse({ ...base, [key]: WRONG }).success) problems.push(`accepts a wrong type for ${key}`);
  return problems;
}
const trustedFrame = { url: 'app://panel/index.html', parent: null };

function fakeIpcMain() {
  const handlers = new Map<string, (event: unknown, input: unknown) => Promise<unknown>>();
  return { handlers, ipcMain: { handle: (ch: string, fn: (event: unknown, input: unknown) => Promise<unknown>) => handlers.set(ch, fn) } };
}

describe('contract bindings at run time', () => {
  it('every operation has a summary and a strict object input that accepts its valid input and refuses extra keys and wrong types', () => {
    for (const name of opNames) {
      expect(operations[name].summary.length, name).toBeGreaterThan(5);
      expect(inputProblems(operations[name].input, VALID[name] ?? {}), name).toEqual([]);
      // Exactly the operations listed in VALID need input: {} is enough for every other.
      expect(operations[name].input.safeParse({}).success, `${name} with {}`).toBe(!(name in VALID));
    }
  });

  it('the input check fails for a schema that is too lax or refuses its valid input', () => {
    expect(inputProblems(z.object({ x: z.string() }), { x: 'a' })).toEqual(['accepts an unknown key']);
    expect(inputProblems(z.object({ n: z.number() }).strict(), { n: 1 })).toEqual([]);
    expect(inputProblems(z.object({ n: z.any() }).strict(), { n: 1 })).toEqual(['accepts a wrong type for n']);
    expect(inputProblems(z.object({ n: z.number() }).strict(), { n: 'one' })).toEqual(['refuses its valid input']);
    expect(inputProblems(z.string(), 'a')).toEqual(['is not an object schema']);
  });

  it('the IPC binding registers one channel per operation and nothing else', () => {
    const { ipcMain, handlers } = fakeIpcMain();
    const channels = bindIpc(ipcMain as never, {} as PanelHandlers, 'app://panel');
    expect(sorted(Object.keys(channels))).toEqual(sorted(opNames));
    expect(sorted(handlers.keys())).toEqual(sorted(Object.values(channels)));
  });

  it('IPC refuses a foreign frame and invalid input before any handler runs', async () => {
    const { ipcMain, handlers } = fakeIpcMain();
    const appInfo = vi.fn(async () => ({ version: 'x' }));
    const channels = bindIpc(ipcMain as never, { appInfo } as unknown as PanelHandlers, 'app://panel');
    const call = handlers.get(channels.appInfo)!;
    expect(await call({ senderFrame: { url: 'https://evil.example/', parent: null } }, {})).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    expect(await call({ senderFrame: { url: 'app://panel/', parent: {} } }, {})).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    expect(await call({ senderFrame: trustedFrame }, { injected: true })).toMatchObject({ ok: false, error: { code: 'invalid-input' } });
    expect(appInfo).not.toHaveBeenCalled();
    expect(await call({ senderFrame: trustedFrame }, {})).toEqual({ ok: true, result: { version: 'x' } });
    expect(appInfo).toHaveBeenCalledOnce();
  });

  it('a frame is trusted only by exact origin', () => {
    expect(isTrustedFrame(trustedFrame as never, 'app://panel')).toBe(true);
    expect(isTrustedFrame({ url: 'app://panel.evil/x', parent: null } as never, 'app://panel')).toBe(false);
    expect(isTrustedFrame({ url: 'not a url', parent: null } as never, 'app://panel')).toBe(false);
    expect(isTrustedFrame(null, 'app://panel')).toBe(false);
  });

  it('the preload exposes one namespaced object with one method per operation', async () => {
    await import('../../main/preload.js');
    expect(Object.keys(exposed)).toEqual(['comfyPanel']);
    const bridge = exposed.comfyPanel as { ops: Record<string, (i: unknown) => Promise<unknown>>; on: (e: string, l: () => void) => () => void };
    expect(sorted(Object.keys(bridge))).toEqual(['on', 'ops']);
    expect(sorted(Object.keys(bridge.ops))).toEqual(sorted(opNames));
    await bridge.ops.appInfo!({});
    expect(invoked.at(-1)).toEqual({ channel: 'panel:op:appInfo', input: {} });
    expect(() => bridge.on('not-an-event', () => undefined)).toThrow(/unknown event/);
  });

  it('the client API has one method per operation and turns error envelopes into errors', async () => {
    const api = apiOverTransport(async (name) =>
      name === 'appInfo' ? { ok: true, result: 42 } : { ok: false, error: { code: 'invalid-input', message: 'bad field', issues: [{ path: 'x', message: 'bad' }] } },
    );
    expect(sorted(Object.keys(api))).toEqual(sorted(opNames));
    expect(await api.appInfo({})).toBe(42);
    const err = await api.configGet({}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ContractCallError);
    expect(err).toMatchObject({ code: 'invalid-input', message: 'bad field', op: 'configGet' });
  });

  it('the contract imports nothing but zod, the config schema and its own types, so any UI can load it', () => {
    const dir = path.resolve('app/contract');
    const schema = path.resolve('app/config/schema.ts');
    const files = [...readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts')).map((f) => path.join(dir, f)), schema];
    expect(files.length).toBeGreaterThan(3);
    for (const file of files) {
      const text = readFileSync(file, 'utf8');
      for (const m of text.matchAll(/^import\s+(type\s+)?[^;]*?from\s+'([^']+)'/gm)) {
        const [, typeOnly, spec] = m;
        const target = spec!.startsWith('.') ? path.resolve(path.dirname(file), spec!).replace(/\.js$/, '.ts') : spec!;
        const ok = typeOnly || spec === 'zod' || target === schema || target.startsWith(dir + path.sep);
        expect(ok, `${path.relative('.', file)} imports ${spec} at run time`).toBeTruthy();
      }
    }
  });
});
