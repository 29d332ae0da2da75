import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PanelConfigSchema, type PanelConfigInput } from '../../app/config/schema.js';
import { modemOptions, resolveDockerTarget } from '../../app/docker/connection.js';
import { SshDockerAgent } from '../../app/docker/ssh.js';
import { ConfigError } from '../../app/errors.js';

const home = mkdtempSync(path.join(os.tmpdir(), 'docker-conn-'));
afterAll(() => rmSync(home, { recursive: true, force: true }));

const cfg = (docker: PanelConfigInput['docker'] = {}) => PanelConfigSchema.parse({ docker });
const sha = (name: string) => createHash('sha256').update(name).digest('hex');

/** Writes a context the way `docker context create` stores it. */
function writeContext(name: string, host: string, opts: { skipTLSVerify?: boolean; tls?: boolean } = {}) {
  const meta = path.join(home, '.docker', 'contexts', 'meta', sha(name));
  mkdirSync(meta, { recursive: true });
  writeFileSync(
    path.join(meta, 'meta.json'),
    JSON.stringify({ Name: name, Metadata: {}, Endpoints: { docker: { Host: host, SkipTLSVerify: opts.skipTLSVerify ?? false } } }),
  );
  if (opts.tls) {
    const tls = path.join(home, '.docker', 'contexts', 'tls', sha(name), 'docker');
    mkdirSync(tls, { recursive: true });
    for (const f of ['ca.pem', 'cert.pem', 'key.pem']) writeFileSync(path.join(tls, f), `${f} of ${name}`);
  }
}

function setCurrent(name: string | undefined) {
  mkdirSync(path.join(home, '.docker'), { recursive: true });
  writeFileSync(path.join(home, '.docker', 'config.json'), JSON.stringify(name ? { auths: {}, currentContext: name } : { auths: {} }));
}

writeContext('remote-gpu', 'tcp://gpu-box.lan:2376', { tls: true });
writeContext('lab-ssh', 'ssh://ops@lab-host');
writeContext('insecure', 'tcp://10.0.0.9:2376', { skipTLSVerify: true });

describe('resolveDockerTarget: precedence like the docker CLI', () => {
  const env = { HOME: home, PATH: '' };

  it('uses the platform default when nothing is set', () => {
    setCurrent(undefined);
    expect(resolveDockerTarget(cfg(), env)).toMatchObject({ host: 'unix:///var/run/docker.sock', source: 'default' });
  });

  it('reads currentContext from ~/.docker/config.json and the context meta', () => {
    setCurrent('remote-gpu');
    const t = resolveDockerTarget(cfg(), env);
    expect(t).toMatchObject({ host: 'tcp://gpu-box.lan:2376', source: 'context', context: 'remote-gpu' });
    expect(t.tls).toEqual({ verify: true, certDir: path.join(home, '.docker', 'contexts', 'tls', sha('remote-gpu'), 'docker') });
    const o = modemOptions(t);
    expect(o).toMatchObject({ protocol: 'https', host: 'gpu-box.lan', port: '2376' });
    expect(String(o.ca as Buffer)).toBe('ca.pem of remote-gpu');
    expect(String(o.key as Buffer)).toBe('key.pem of remote-gpu');
  });

  it('DOCKER_CONTEXT beats currentContext; DOCKER_HOST beats both', () => {
    setCurrent('remote-gpu');
    expect(resolveDockerTarget(cfg(), { ...env, DOCKER_CONTEXT: 'lab-ssh' })).toMatchObject({ host: 'ssh://ops@lab-host', context: 'lab-ssh' });
    expect(resolveDockerTarget(cfg(), { ...env, DOCKER_CONTEXT: 'lab-ssh', DOCKER_HOST: 'unix:///tmp/x.sock' })).toMatchObject({
      host: 'unix:///tmp/x.sock',
      source: 'env',
    });
  });

  it('config docker.context beats DOCKER_HOST; config docker.host beats everything', () => {
    const e = { ...env, DOCKER_HOST: 'unix:///tmp/x.sock', DOCKER_CONTEXT: 'lab-ssh' };
    expect(resolveDockerTarget(cfg({ context: 'remote-gpu' }), e)).toMatchObject({ context: 'remote-gpu', source: 'context' });
    expect(resolveDockerTarget(cfg({ context: 'remote-gpu', host: 'tcp://127.0.0.1:2375' }), e)).toMatchObject({ host: 'tcp://127.0.0.1:2375', source: 'config' });
  });

  it('context "default" means the platform default', () => {
    expect(resolveDockerTarget(cfg(), { ...env, DOCKER_CONTEXT: 'default' })).toMatchObject({ source: 'default' });
  });

  it('a missing context is a config error naming the context and where it looked', () => {
    expect(() => resolveDockerTarget(cfg({ context: 'nope' }), env)).toThrow(ConfigError);
    expect(() => resolveDockerTarget(cfg({ context: 'nope' }), env)).toThrow(/Docker context "nope" not found.*meta\.json/);
  });

  it('DOCKER_TLS_VERIFY and DOCKER_CERT_PATH give https with the certs', () => {
    const certs = path.join(home, 'certs');
    mkdirSync(certs, { recursive: true });
    for (const f of ['ca.pem', 'cert.pem', 'key.pem']) writeFileSync(path.join(certs, f), `env ${f}`);
    const t = resolveDockerTarget(cfg(), { ...env, DOCKER_HOST: 'tcp://build:2376', DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: certs });
    expect(t.tls).toEqual({ verify: true, certDir: certs });
    const o = modemOptions(t);
    expect(o).toMatchObject({ protocol: 'https', host: 'build' });
    expect(String(o.cert)).toBe('env cert.pem');
  });

  it('SkipTLSVerify gives https with an agent that does not verify', () => {
    const o = modemOptions(resolveDockerTarget(cfg({ context: 'insecure' }), env)) as { agent?: { options: { rejectUnauthorized?: boolean } } };
    expect(o.agent?.options.rejectUnauthorized).toBe(false);
  });

  it('maps unix, npipe, ssh and plain tcp hosts, overriding whatever DOCKER_HOST the modem would merge in', () => {
    expect(modemOptions({ host: 'unix:///run/user/1000/docker.sock', source: 'config' })).toMatchObject({ socketPath: '/run/user/1000/docker.sock', host: undefined });
    expect(modemOptions({ host: 'npipe:////./pipe/docker_engine', source: 'default' })).toMatchObject({ socketPath: '//./pipe/docker_engine' });
    // ssh: plain HTTP through the panel's own ssh agent (docker-modem's ssh transport crashes on a timeout).
    const ssh = modemOptions({ host: 'ssh://ops@lab-host:2222', source: 'context' }, 5000, { SSH_AUTH_SOCK: '/tmp/agent', HOME: home });
    expect(ssh).toMatchObject({ protocol: 'http', host: 'lab-host', timeout: 5000 });
    expect(ssh.agent).toBeInstanceOf(SshDockerAgent);
    expect((ssh.agent as SshDockerAgent).resolve()).toMatchObject({ host: 'lab-host', port: 2222, username: 'ops', agent: '/tmp/agent' });
    expect(modemOptions({ host: 'tcp://10.1.1.1', source: 'env' })).toMatchObject({ protocol: 'http', host: '10.1.1.1', port: 2375 });
    expect(() => modemOptions({ host: 'ftp://x', source: 'config' })).toThrow(/unsupported scheme ftp:/);
  });
});
