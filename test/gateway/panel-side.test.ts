/** The panel's side of the front door without an engine: the ComfyUI spec behind the gateway, durations, redaction. */
import type Docker from 'dockerode';
import { describe, expect, it } from 'vitest';
import { PanelConfigSchema } from '../../app/config/schema.js';
import { buildCreateSpec, desiredView, diffViews, observedView } from '../../app/docker/spec.js';
import { parseDuration, parseExpiry, parseRate } from '../../app/gateway/clients.js';
import { gatewayStateDir, gatewayUrl } from '../../app/gateway/deployment.js';
import { redact } from '../../app/redact.js';

const base = { container: { name: 'comfy', image: 'img', gpus: 'none' as const } };

describe('the ComfyUI container behind the gateway', () => {
  it('publishes no port and joins the private network under the upstream alias', () => {
    const config = PanelConfigSchema.parse({ ...base, gateway: { enabled: true, network: 'fd-net', upstreamAlias: 'comfyui' } });
    const spec = buildCreateSpec(config);
    expect(spec.HostConfig?.PortBindings).toBeUndefined();
    expect(spec.HostConfig?.NetworkMode).toBe('fd-net');
    expect(spec.NetworkingConfig?.EndpointsConfig?.['fd-net']?.Aliases).toEqual(['comfyui']);
    expect(desiredView(config)).toMatchObject({ ports: [], network: 'fd-net' });
  });

  it('without the gateway the spec and its hash are what they were (no network field)', () => {
    const config = PanelConfigSchema.parse(base);
    expect(buildCreateSpec(config).HostConfig?.PortBindings).toEqual({ '8188/tcp': [{ HostIp: '127.0.0.1', HostPort: '8188' }] });
    expect('network' in desiredView(config)).toBe(false);
  });

  const inspected = (networks: string[]) =>
    ({
      Config: { Image: 'img', Cmd: null, Env: [], Labels: {} },
      HostConfig: { PortBindings: {}, RestartPolicy: { Name: 'unless-stopped' } },
      Mounts: [],
      NetworkSettings: { Networks: Object.fromEntries(networks.map((n) => [n, {}])) },
    }) as unknown as Docker.ContainerInspectInfo;

  it('a container still on the default bridge differs (network); a compose network is left alone while the gateway is off', () => {
    const on = desiredView(PanelConfigSchema.parse({ ...base, gateway: { enabled: true, network: 'fd-net' } }));
    expect(diffViews(observedView(inspected(['bridge'])), on).filter((c) => c.field === 'network')).toEqual([{ field: 'network', from: 'bridge', to: 'fd-net' }]);
    expect(diffViews(observedView(inspected(['fd-net'])), on).filter((c) => c.field === 'network')).toEqual([]);
    const off = desiredView(PanelConfigSchema.parse(base));
    expect(diffViews(observedView(inspected(['proj_default'])), off).filter((c) => c.field === 'network')).toEqual([]);
  });

  it('state folder and URL come from the section and the data folder given', () => {
    const g = PanelConfigSchema.parse({}).gateway;
    expect(gatewayStateDir(g, '/data/i1')).toBe('/data/i1/gateway');
    expect(gatewayStateDir({ ...g, stateDir: '/srv/gw' }, '/data/i1')).toBe('/srv/gw');
    expect(gatewayUrl({ ...g, bindAddress: '0.0.0.0', hostPort: 42310 })).toBe('http://127.0.0.1:42310');
  });
});

describe('CLI input', () => {
  it('durations, expiry and rates', () => {
    expect(parseDuration('90s')).toBe(90_000);
    expect(parseDuration('1.5h')).toBe(5_400_000);
    expect(parseDuration('2w')).toBe(1_209_600_000);
    expect(() => parseDuration('soon', '--overlap')).toThrow(/--overlap "soon"/);
    expect(parseExpiry('1d', 0)).toBe(new Date(86_400_000).toISOString());
    expect(parseExpiry('2030-01-01')).toBe('2030-01-01T00:00:00.000Z');
    expect(() => parseExpiry('tomorrow-ish')).toThrow(/expiry/);
    expect(parseRate('60/1m')).toEqual({ requests: 60, perSeconds: 60 });
    expect(() => parseRate('60 per minute')).toThrow(/REQUESTS\/PERIOD/);
  });
});

describe('redaction', () => {
  it('hides client keys and one-time links in free text', () => {
    const key = `cpk_${'A'.repeat(43)}`;
    const link = `cpl_${'b'.repeat(43)}`;
    const out = redact(`client ${key} link /_gateway/login?link=${link} done`);
    expect(out).not.toContain(key);
    expect(out).not.toContain(link);
    expect(out).toContain('[redacted fp:');
  });
});
