// The pages' small rules: env file lights by severity, what a sync does to a file in words (a
// mode-only change included), which files changed between a preview and now, the preflight's
// missing models with their folders, and the container phase shown during an operation.
import { describe, expect, it } from 'vitest';
import type { EnvFinding, EnvSyncPreview, EnvSyncTargetPreview } from '../../app/contract/index.js';
import { displayPhase, endsTransition, mergeState } from '../../renderer/src/lib/container.js';
import { fileLight, planChanges, targetChange } from '../../renderer/src/lib/env.js';
import { preflightItems } from '../../renderer/src/lib/preflight.js';

const finding = (file: string, severity: EnvFinding['severity']): EnvFinding => ({ file, line: 1, kind: 'compose-unsafe', severity, message: 'm', fix: 'f' });

describe('env page', () => {
  it('lights a file with an error finding as failing, not as a warning', () => {
    expect(fileLight({ file: '.env' }, [finding('.env', 'warning'), finding('.env', 'error')])).toBe('fail');
    expect(fileLight({ file: '.env' }, [finding('.env', 'warning'), finding('other', 'error')])).toBe('warn');
    expect(fileLight({ file: '.env', error: { message: 'x', line: 2 } }, [])).toBe('fail');
    expect(fileLight({ file: '.env' }, [])).toBe('ok');
  });

  const target = (over: Partial<EnvSyncTargetPreview>): EnvSyncTargetPreview => ({ file: '.env', path: '/p/.env', dialect: 'compose', exists: true, changed: true, diff: ['-A=1', '+A=2'], keys: [{ key: 'A', source: 'token', status: 'set' }], ...over });

  it('says what a sync changes, and a mode-only change is not an empty "will change"', () => {
    expect(targetChange(target({}), false)).toBe('will change: sets A');
    const modeOnly = target({ diff: ['mode 0644 -> 0600 (it holds a secret: only its owner may read it)'], keys: [{ key: 'A', source: 'token', status: 'unchanged' }] });
    expect(targetChange(modeOnly, false)).toBe('only the mode changes, the contents are already right');
    expect(targetChange(modeOnly, true)).toBe('mode changed, the contents are already right');
    expect(targetChange(target({ exists: false }), false)).toBe('will be created; sets A');
    expect(targetChange(target({ changed: false }), false)).toBe('already up to date');
    expect(targetChange(target({ error: 'malformed line 3' }), false)).toBe('malformed line 3');
  });

  it('names the files whose plan changed since the preview', () => {
    const read: EnvSyncPreview = { root: '/p', missing: [], targets: [target({}), target({ file: 'n/.env', path: '/p/n/.env' })] };
    expect(planChanges(read, structuredClone(read))).toEqual([]);
    const now = structuredClone(read);
    now.targets[1]!.diff = ['-A=1', '+A=2', ' B=3'];
    expect(planChanges(read, now)).toEqual(['n/.env']);
    expect(planChanges(read, { ...read, targets: [read.targets[0]!] })).toEqual(['n/.env']);
    expect(planChanges(read, { ...read, missing: [{ source: 'token', reason: 'no credential' }] })).toEqual(['the values to write']);
  });
});

describe('preflight problems', () => {
  it('lists each problem, a missing model with its file and folder', () => {
    const error = [
      'The workflow cannot run on this server:',
      '  UNETLoader (node 37) needs qwen_image_fp8_e4m3fn.safetensors in models/diffusion_models',
      '  VAELoader (node 39) needs qwen_image_vae.safetensors: it is in models/vae but the server does not list it; restart ComfyUI so it rescans the models',
      '  FancyNode (node 4) is not a node class on this server; is its custom node installed?',
    ].join('\n');
    const { intro, items } = preflightItems(error);
    expect(intro).toBe('The workflow cannot run on this server:');
    expect(items).toEqual([
      expect.objectContaining({ file: 'qwen_image_fp8_e4m3fn.safetensors', folder: 'models/diffusion_models', classType: 'UNETLoader', node: '37', rescan: false }),
      expect.objectContaining({ file: 'qwen_image_vae.safetensors', folder: 'models/vae', rescan: true }),
      { message: 'FancyNode (node 4) is not a node class on this server; is its custom node installed?' },
    ]);
  });
});

describe('container phase', () => {
  it('shows the transition in flight, and never healthy while Docker still says starting', () => {
    expect(displayPhase({ phase: 'stopped' }, 'starting')).toBe('starting');
    expect(displayPhase({ phase: 'healthy', health: 'starting' })).toBe('starting');
    expect(displayPhase({ phase: 'healthy', health: 'healthy' })).toBe('healthy');
  });

  it('ends a restart only when the container runs again, a stop once it is down', () => {
    expect(endsTransition('restarting', { phase: 'stopped' })).toBe(false);
    expect(endsTransition('restarting', { phase: 'starting' })).toBe(true);
    expect(endsTransition('stopping', { phase: 'healthy' })).toBe(false);
    expect(endsTransition('stopping', { phase: 'stopped' })).toBe(true);
    expect(endsTransition('starting', { phase: 'crashed' })).toBe(true);
  });

  it('does not let an older state overwrite a newer one, and drops what a running container no longer has', () => {
    const old = { name: 'c', id: 'x', phase: 'stopped', exitCode: 0, since: '2026-01-01T12:05:00Z', exists: true } as never;
    expect(mergeState(old, { name: 'c', id: 'x', phase: 'healthy', since: '2026-01-01T12:00:00Z' })).toBe(old);
    const next = mergeState(old, { name: 'c', id: 'x', phase: 'starting', health: 'starting', since: '2026-01-01T12:06:00Z' });
    expect(next).toMatchObject({ phase: 'starting', health: 'starting', exitCode: undefined });
  });
});
