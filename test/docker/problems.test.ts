import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { classifyDockerError, DockerError, toDockerError } from '../../app/docker/problems.js';

/** Errors shaped as docker-modem produces them: HTTP status, the daemon's JSON message. */
const http = (statusCode: number, message: string) => Object.assign(new Error(`(HTTP code ${statusCode}) unexpected - ${message} `), { statusCode, json: { message } });
const sys = (code: string, address = '/var/run/docker.sock') => Object.assign(new Error(`connect ${code} ${address}`), { code, address });

const bin = mkdtempSync(path.join(os.tmpdir(), 'docker-bin-'));
writeFileSync(path.join(bin, 'docker'), '#!/bin/sh\n', { mode: 0o755 });
afterAll(() => rmSync(bin, { recursive: true, force: true }));

describe('classifyDockerError', () => {
  it('no socket and no docker binary: engine not installed', () => {
    const p = classifyDockerError(sys('ENOENT'), { env: { PATH: '' } });
    expect(p.kind).toBe('engine-not-installed');
    expect(p.fix).toMatch(/Install Docker/);
  });

  it('no socket but the docker client is installed: daemon not running', () => {
    expect(classifyDockerError(sys('ENOENT'), { env: { PATH: bin } }).kind).toBe('daemon-not-running');
  });

  it('connection refused: daemon not running, with how to start it', () => {
    const p = classifyDockerError(sys('ECONNREFUSED'));
    expect(p).toMatchObject({ kind: 'daemon-not-running' });
    expect(p.message).toContain('/var/run/docker.sock');
  });

  it('a remote engine that refuses: the fix says to start Docker on that host and check its tcp port, not `systemctl` here', () => {
    const tcp = classifyDockerError(sys('ECONNREFUSED', '10.0.0.7'), { host: 'tcp://10.0.0.7:2376' });
    expect(tcp).toMatchObject({ kind: 'daemon-not-running' });
    expect(tcp.message).toMatch(/Docker engine on 10\.0\.0\.7 is not running or does not listen on port 2376/);
    expect(tcp.fix).toMatch(/The engine runs on 10\.0\.0\.7, not here: start Docker there/);
    expect(tcp.fix).toContain('docker -H tcp://10.0.0.7:2376 version');
    expect(tcp.fix).not.toMatch(/^Start it: `sudo systemctl start docker`/);
    const ssh = classifyDockerError(sys('ECONNREFUSED', '10.0.0.8'), { host: 'ssh://ops@10.0.0.8' });
    expect(ssh.fix).toMatch(/^Start Docker on 10\.0\.0\.8: `ssh ops@10\.0\.0\.8 sudo systemctl start docker`/);
    // A local socket keeps the local advice.
    expect(classifyDockerError(sys('ECONNREFUSED'), { host: 'unix:///var/run/docker.sock' }).fix).not.toMatch(/runs on/);
  });

  it('EACCES: permission denied, the fix names the docker group', () => {
    expect(classifyDockerError(sys('EACCES')).fix).toMatch(/docker group|docker-users/);
  });

  it.each([
    [http(404, 'No such container: comfyui-qwen'), 'no-such-container'],
    [http(404, 'No such image: comfyui-qwen:latest'), 'no-such-image'],
    [http(409, 'Conflict. The container name "/comfyui-qwen" is already in use by container "abc". You have to remove (or rename) that container to be able to reuse that name.'), 'name-conflict'],
    [http(500, 'driver failed programming external connectivity on endpoint x: Bind for 127.0.0.1:8188 failed: port is already allocated'), 'port-in-use'],
    [http(500, 'failed to set up container networking: listen tcp4 127.0.0.1:8188: bind: address already in use'), 'port-in-use'],
    [http(500, 'could not select device driver "nvidia" with capabilities: [[gpu]]'), 'nvidia-runtime-missing'],
    [http(400, 'invalid mount config for type "bind": bind source path does not exist: /srv/models'), 'mount-source-missing'],
    [Object.assign(new Error('The operation was aborted due to timeout'), { name: 'TimeoutError' }), 'timeout'],
    [http(500, 'something odd'), 'unknown'],
  ] as const)('%s -> %s', (err, kind) => {
    const p = classifyDockerError(err, { container: 'comfyui-qwen', image: 'comfyui-qwen:latest' });
    expect(p.kind).toBe(kind);
    expect(p.message.length).toBeGreaterThan(10);
    expect(p.fix.length).toBeGreaterThan(10);
  });

  it('names the port of a port conflict in the fix', () => {
    expect(classifyDockerError(http(500, 'Bind for 127.0.0.1:18188 failed: port is already allocated')).fix).toContain('18188');
  });

  it('redacts secrets that a daemon message might echo', () => {
    const hash = '$2b$12$' + 'a'.repeat(53);
    const p = classifyDockerError(http(500, `exec failed: token=${hash}`));
    expect(p.message).not.toContain(hash);
  });

  it('toDockerError keeps the classification and the kind in the code', () => {
    const e = toDockerError(http(409, 'Conflict. The container name "/x" is already in use'), { container: 'x' });
    expect(e).toBeInstanceOf(DockerError);
    expect(e.code).toBe('docker-name-conflict');
    expect(classifyDockerError(e).kind).toBe('name-conflict');
  });
});
