import type Docker from 'dockerode';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../app/config/load.js';
import type { DockerPing } from '../../app/contract/ops/container.js';
import { applySetupChoices, engineHowTo, isComfyCandidate } from '../../app/health/setup.js';

const down = (kind: NonNullable<DockerPing['problem']>['kind'], fix = 'Start it: `sudo systemctl start docker`.'): DockerPing => ({
  ok: false,
  host: 'unix:///var/run/docker.sock',
  source: 'default',
  latencyMs: 1,
  problem: { kind, message: 'down', fix },
});

const info = (over: Partial<Docker.ContainerInfo>) => ({ Id: 'x', Names: ['/x'], Image: 'busybox', Ports: [], Labels: {}, State: 'running', ...over }) as Docker.ContainerInfo;

describe('first-run setup', () => {
  it('says how to install the engine for the platform, and passes on the fix for a stopped one', () => {
    expect(engineHowTo(down('engine-not-installed'), 'linux')).toMatch(/Docker Engine.*systemctl enable --now docker/);
    expect(engineHowTo(down('engine-not-installed'), 'darwin')).toMatch(/Docker Desktop/);
    expect(engineHowTo(down('daemon-not-running'), 'linux')).toBe('Start it: `sudo systemctl start docker`.');
    expect(engineHowTo({ ok: true, host: 'unix:///x.sock', source: 'env', latencyMs: 1, serverVersion: '27.1' })).toBe('Docker 27.1 runs at unix:///x.sock.');
  });

  it('takes containers whose name or image mentions comfy, or that use port 8188', () => {
    expect(isComfyCandidate(info({ Image: 'ghcr.io/x/ComfyUI:latest' }))).toBe(true);
    expect(isComfyCandidate(info({ Names: ['/comfyui-qwen'] }))).toBe(true);
    expect(isComfyCandidate(info({ Ports: [{ IP: '127.0.0.1', PrivatePort: 8188, PublicPort: 9000, Type: 'tcp' }] }))).toBe(true);
    expect(isComfyCandidate(info({ Ports: [{ IP: '', PrivatePort: 5432, PublicPort: 5432, Type: 'tcp' }] }))).toBe(false);
  });

  it('applies only the chosen answers', () => {
    const current = parseConfig({ container: { name: 'old', hostPort: 8188 }, docker: { host: 'unix:///a.sock' } });
    const next = applySetupChoices(current, { containerName: 'comfyui-qwen', comfyuiUrl: 'http://127.0.0.1:8190' });
    expect(next.container).toMatchObject({ name: 'comfyui-qwen', hostPort: 8188 });
    expect(next.comfyui.url).toBe('http://127.0.0.1:8190');
    expect(next.docker.host).toBe('unix:///a.sock');
    expect(applySetupChoices(current, {})).toEqual(current);
  });
});
