import type Docker from 'dockerode';
import { describe, expect, it } from 'vitest';
import { PanelConfigSchema, type PanelConfigInput } from '../../app/config/schema.js';
import { cpuPercent, gpuReport, memoryUsed, parseNvidiaSmi } from '../../app/docker/resources.js';
import { buildCreateSpec, desiredView, diffViews, SECRET_TARGET, specHash } from '../../app/docker/spec.js';
import { exitCodeText, NO_HEALTHCHECK_GRACE_MS, phaseOf } from '../../app/docker/state.js';
import { ConfigError } from '../../app/errors.js';

const config = (container: PanelConfigInput['container'] = {}) => PanelConfigSchema.parse({ container });

describe('buildCreateSpec', () => {
  it('builds the production spec from the defaults', () => {
    const spec = buildCreateSpec(config({ secretFile: '/srv/comfy/.secrets/qwen-api-user.token', mounts: [{ source: '/srv/models', target: '/workspace/ComfyUI/models', readOnly: true }] }));
    expect(spec).toMatchObject({
      name: 'comfyui-qwen',
      Image: 'comfyui-qwen:latest',
      ExposedPorts: { '8188/tcp': {} },
      Labels: { 'io.comfy-panel.managed': 'true' },
      Healthcheck: { Test: ['CMD', '/usr/local/bin/comfy-healthcheck'], Interval: 30e9, Timeout: 5e9, Retries: 3, StartPeriod: 60e9 },
      HostConfig: {
        PortBindings: { '8188/tcp': [{ HostIp: '127.0.0.1', HostPort: '8188' }] },
        RestartPolicy: { Name: 'unless-stopped' },
        DeviceRequests: [{ Driver: 'nvidia', Count: -1, Capabilities: [['gpu']] }],
      },
    });
    expect(spec.Env).toEqual(expect.arrayContaining([`COMFYUI_SECRET_FILE=${SECRET_TARGET}`, 'COMFYUI_AUTH_REQUIRED=1']));
    expect(spec.HostConfig?.Mounts).toEqual([
      { Type: 'bind', Source: '/srv/models', Target: '/workspace/ComfyUI/models', ReadOnly: true },
      { Type: 'bind', Source: '/srv/comfy/.secrets/qwen-api-user.token', Target: SECRET_TARGET, ReadOnly: true },
    ]);
    expect(spec.Labels?.['io.comfy-panel.spec-hash']).toBe(specHash(desiredView(config({ secretFile: '/srv/comfy/.secrets/qwen-api-user.token', mounts: [{ source: '/srv/models', target: '/workspace/ComfyUI/models', readOnly: true }] }))));
  });

  it('picks GPUs by id, or none', () => {
    expect(buildCreateSpec(config({ gpus: ['0'] })).HostConfig?.DeviceRequests).toEqual([{ Driver: 'nvidia', Capabilities: [['gpu']], DeviceIDs: ['0'] }]);
    expect(buildCreateSpec(config({ gpus: 'none' })).HostConfig?.DeviceRequests).toEqual([]);
  });

  it('refuses relative host paths, naming the field', () => {
    expect(() => buildCreateSpec(config({ secretFile: '.secrets/token' }))).toThrow(ConfigError);
    expect(() => buildCreateSpec(config({ mounts: [{ source: 'models', target: '/m', readOnly: false }] }))).toThrow(/container\.mounts\[0\]\.source/);
  });

  it('the hash changes with the spec and not with env key order', () => {
    const a = specHash(desiredView(config({ env: { A: '1', B: '2' } })));
    expect(specHash(desiredView(config({ env: { B: '2', A: '1' } })))).toBe(a);
    expect(specHash(desiredView(config({ env: { A: '1', B: '3' } })))).not.toBe(a);
  });
});

describe('diffViews', () => {
  it('lists each change; env values only as fingerprints', () => {
    const from = desiredView(config({ env: { HF_TOKEN: 'hf_secret_value_1' }, hostPort: 8188 }));
    const to = desiredView(config({ env: { HF_TOKEN: 'hf_secret_value_2', EXTRA: 'x' }, hostPort: 8189, restartPolicy: 'always' }));
    const changes = diffViews(from, to);
    expect(changes.map((c) => c.field).sort()).toEqual(['env', 'env', 'ports', 'restartPolicy']);
    expect(JSON.stringify(changes)).not.toMatch(/hf_secret_value/);
    expect(changes).toContainEqual({ field: 'env', from: 'EXTRA=(unset)', to: expect.stringMatching(/^EXTRA=fp:/) });
    expect(diffViews(to, to)).toEqual([]);
  });
});

const inspect = (state: Partial<Docker.ContainerInspectInfo['State']>) => ({ State: { Status: 'exited', Running: false, ExitCode: 0, OOMKilled: false, StartedAt: new Date().toISOString(), ...state } }) as Docker.ContainerInspectInfo;

describe('phaseOf', () => {
  it.each([
    [{ Status: 'created' }, false, 'created'],
    [{ Status: 'running', Running: true, Health: { Status: 'starting' } }, false, 'starting'],
    [{ Status: 'running', Running: true, Health: { Status: 'healthy' } }, false, 'healthy'],
    [{ Status: 'running', Running: true, Health: { Status: 'unhealthy' } }, false, 'unhealthy'],
    [{ Status: 'exited', ExitCode: 0 }, false, 'stopped'],
    [{ Status: 'exited', ExitCode: 143 }, false, 'stopped'],
    [{ Status: 'exited', ExitCode: 1 }, false, 'crashed'],
    [{ Status: 'exited', ExitCode: 137 }, false, 'crashed'],
    [{ Status: 'exited', ExitCode: 137 }, true, 'stopped'],
    [{ Status: 'exited', ExitCode: 137, OOMKilled: true }, true, 'crashed'],
    [{ Status: 'restarting', ExitCode: 1 }, false, 'crashed'],
  ] as const)('%o (deliberate %s) -> %s', (state, deliberate, phase) => {
    expect(phaseOf(inspect(state as never), deliberate)).toBe(phase);
  });

  it('says what an exit code means: 143 is a clean stop, 137 a kill, OOM first', () => {
    expect(exitCodeText(143)).toBe('exit code 143, SIGTERM: a clean stop');
    expect(exitCodeText(137)).toMatch(/SIGKILL/);
    expect(exitCodeText(137, true)).toBe('exit code 137, killed: out of memory');
    expect(exitCodeText(130)).toBe('exit code 130, signal 2');
    expect(exitCodeText(1)).toBe('exit code 1');
  });

  it('without a healthcheck: starting during the grace period, then healthy', () => {
    const info = inspect({ Status: 'running', Running: true, StartedAt: new Date(0).toISOString() });
    expect(phaseOf(info, false, NO_HEALTHCHECK_GRACE_MS - 1)).toBe('starting');
    expect(phaseOf(info, false, NO_HEALTHCHECK_GRACE_MS + 1)).toBe('healthy');
  });
});

describe('resources', () => {
  it('computes CPU % like docker stats and memory without page cache', () => {
    const s = {
      cpu_stats: { cpu_usage: { total_usage: 3_000_000_000 }, system_cpu_usage: 20_000_000_000, online_cpus: 4 },
      precpu_stats: { cpu_usage: { total_usage: 1_000_000_000 }, system_cpu_usage: 10_000_000_000 },
      memory_stats: { usage: 500, limit: 1000, stats: { inactive_file: 100 } },
    } as unknown as Docker.ContainerStats;
    expect(cpuPercent(s)).toBe(80);
    expect(memoryUsed(s)).toBe(400);
  });

  it('parses nvidia-smi and reports no GPU with a reason', () => {
    expect(parseNvidiaSmi('NVIDIA GeForce RTX 3090, 1024, 24576\n')).toEqual([{ name: 'NVIDIA GeForce RTX 3090', memoryUsedMiB: 1024, memoryTotalMiB: 24576 }]);
    expect(gpuReport({ exitCode: 0, stdout: 'NVIDIA GeForce RTX 3090, 1, 24576\n', stderr: '' }).gpus).toHaveLength(1);
    expect(gpuReport({ exitCode: 127, stdout: 'OCI runtime exec failed: exec: "nvidia-smi": executable file not found in $PATH', stderr: '' })).toEqual({
      gpus: null,
      reason: expect.stringMatching(/no GPU: nvidia-smi is not in the container/),
    });
    expect(gpuReport({ exitCode: 9, stdout: '', stderr: "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver." }).reason).toMatch(/couldn't communicate/);
  });
});
