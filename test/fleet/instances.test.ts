import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { instanceConfig, instancePaths, listInstances, withInstanceConfig } from '../../app/config/instances.js';
import { parseConfig } from '../../app/config/load.js';

const paths = { configFile: '/p/config.json', dataDir: '/p/data', logDir: '/p/logs' };

describe('instances in the config', () => {
  it('reads a config without instances as one instance "default" with the data folder it always had', () => {
    const config = parseConfig({ container: { name: 'solo' } });
    expect(listInstances(config)).toEqual([{ id: 'default', label: 'default' }]);
    expect(instanceConfig(config, 'default').container.name).toBe('solo');
    expect(instancePaths(paths, 'default')).toEqual(paths);
    expect(() => instanceConfig(config, 'b')).toThrow(/unknown instance "b": this config has default/);
  });

  it('gives each instance the top-level sections it omits and its own where it has them, replaced whole', () => {
    const config = parseConfig({
      docker: { host: 'unix:///shared.sock' },
      credential: { username: 'ops' },
      health: { intervalSec: 30 },
      instances: [
        { id: 'a', container: { name: 'comfy-a', hostPort: 8101 } },
        { id: 'b', label: 'Course B', docker: { host: 'ssh://gpu@box-b' }, container: { name: 'comfy-b' }, comfyui: { url: 'http://box-b:8188' } },
      ],
    });
    const a = instanceConfig(config, 'a');
    const b = instanceConfig(config, 'b');
    expect(a.docker.host).toBe('unix:///shared.sock');
    expect(b.docker.host).toBe('ssh://gpu@box-b');
    // A section given is whole: b's container has its own defaults, not a's port.
    expect([a.container.hostPort, b.container.hostPort]).toEqual([8101, 8188]);
    expect([a.credential.username, b.credential.username, b.health.intervalSec]).toEqual(['ops', 'ops', 30]);
    expect(b.comfyui.url).toBe('http://box-b:8188');
    expect(a).not.toHaveProperty('instances');
    expect(listInstances(config)).toEqual([
      { id: 'a', label: 'a' },
      { id: 'b', label: 'Course B' },
    ]);
    expect(instancePaths(paths, 'b').dataDir).toBe(path.join('/p/data', 'instances', 'b'));
  });

  it('writes an instance view back into that instance only', () => {
    const config = parseConfig({ instances: [{ id: 'a', container: { name: 'comfy-a' } }, { id: 'b', container: { name: 'comfy-b', hostPort: 8102 } }] });
    const next = instanceConfig(config, 'b');
    const written = withInstanceConfig(config, 'b', { ...next, container: { ...next.container, image: 'adopted:1' } });
    expect(instanceConfig(parseConfig(written), 'b').container.image).toBe('adopted:1');
    expect(instanceConfig(parseConfig(written), 'a')).toEqual(instanceConfig(config, 'a'));
    // Without instances the view is the config.
    const solo = parseConfig({});
    expect(parseConfig(withInstanceConfig(solo, 'default', { ...solo, container: { ...solo.container, name: 'x1' } })).container.name).toBe('x1');
  });

  it.each([
    [{ instances: [{ id: 'a', container: { name: 'c1', hostPort: 1 } }, { id: 'a', container: { name: 'c2', hostPort: 2 } }] }, /instances\.1\.id: instance id "a" is used twice/],
    [{ instances: [{ id: 'a', container: { name: 'same', hostPort: 1 } }, { id: 'b', container: { name: 'same', hostPort: 2 } }] }, /instances\.1\.container\.name: container "same" on that engine belongs to another instance/],
    [{ instances: [{ id: 'a', container: { name: 'c1' } }, { id: 'b', container: { name: 'c2' } }] }, /instances\.1\.container\.hostPort: host port 127\.0\.0\.1:8188/],
    [{ instances: [{ id: 'a', container: { name: 'c1', hostPort: 1 }, vault: { dir: '/v' } }, { id: 'b', container: { name: 'c2', hostPort: 2 }, vault: { dir: '/v' } }] }, /instances\.1\.vault\.dir: vault\.dir \/v is another instance's/],
    [{ instances: [{ id: 'Bad Id' }] }, /instances\.0\.id: an instance id/],
    [
      { gateway: { enabled: true }, instances: [{ id: 'a', container: { name: 'c1' }, gateway: { enabled: true, name: 'g1', hostPort: 1 } }, { id: 'b', container: { name: 'c2' }, gateway: { enabled: true, name: 'g2', hostPort: 2 } }] },
      /instances\.1\.gateway\.network: gateway\.network comfy-panel with upstreamAlias comfyui/,
    ],
    [
      { env: { targets: [{ path: '.env', dialect: 'compose', keys: { T: 'token' } }] }, instances: [{ id: 'a', container: { name: 'c1', hostPort: 1 } }, { id: 'b', container: { name: 'c2', hostPort: 2 } }] },
      /instances\.1\.env\.targets\.0\.path: env target .*\.env is another instance's file/,
    ],
    [{ instances: [] }, /instances/],
  ])('refuses a fleet that would share a container, a port or a credential, naming the field (%#)', (value, message) => {
    expect(() => parseConfig(value)).toThrow(message);
  });

  it('lets two instances use the same container name and port on different engines', () => {
    const config = parseConfig({ instances: [{ id: 'a', docker: { host: 'ssh://gpu@a' } }, { id: 'b', docker: { host: 'ssh://gpu@b' } }] });
    expect(listInstances(config)).toHaveLength(2);
  });
});
