import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../app/config/load.js';
import { panelPaths } from '../../app/config/paths.js';
import type { PanelConfig } from '../../app/config/schema.js';
import { ContainerManager } from '../../app/docker/manager.js';
import { containerServer, tokenActions } from '../../app/tokens/actions.js';
import { createCredential, passwordFileContent } from '../../app/tokens/credential.js';
import { EXPIRED_KEY_TIME, sessionKeyPath } from '../../app/tokens/session-key.js';
import { openVault } from '../../app/tokens/vault.js';
import { freePort, uniqueName } from '../docker/helpers.js';
import { loginCookie } from '../double/helpers.js';
import { SECRET_IN_CONTAINER, waitFor } from '../double/container-helpers.js';
import { doubleArgs, DOUBLE_IMAGE_UID, ensureDoubleImage } from '../support/double-image.js';
import { requireDocker } from '../support/docker.js';
import { useFastBcrypt } from './support.js';

useFastBcrypt();
const d = await requireDocker();

/**
 * Issue 13 item 4 (and 5): on the real server a browser session survives a new PASSWORD; only a new
 * `.secret-key.txt` ends it. The deployment is the recipe's: the container runs as uid 1000 and reads
 * a uid-1000, 0600 secret file mounted read-only, which the panel (root here) rewrites.
 */
describe.skipIf(!d.ok)('a rotation ends the browser sessions of the old password (the recipe\'s non-root container)', { timeout: 240_000 }, () => {
  const docker = d.ok ? d.docker : (undefined as never);
  let home: string;
  let config: PanelConfig;
  let secretFile: string;
  const name = uniqueName('truth-sess');
  const paths = () => panelPaths({ COMFY_PANEL_HOME: home });
  const stats = async (cookie: string) => (await fetch(`${config.comfyui.url}/system_stats`, { headers: { cookie, accept: 'application/json' }, redirect: 'manual' })).status;
  const actions = () => tokenActions(config, paths(), { actor: 'cli:test', configFile: path.join(home, 'config.json') });
  const current = async () => (await openVault(config, paths()).read())!.current;

  beforeAll(async () => {
    const image = await ensureDoubleImage(docker);
    home = await fs.mkdtemp(path.join(os.tmpdir(), 'truth-sess-'));
    secretFile = path.join(home, 'secrets', 'comfyui-password');
    await fs.mkdir(path.dirname(secretFile), { recursive: true });
    const initial = await createCredential('operator');
    await fs.writeFile(secretFile, passwordFileContent(initial), { mode: 0o600 });
    await fs.chown(secretFile, DOUBLE_IMAGE_UID, DOUBLE_IMAGE_UID);
    const port = await freePort();
    config = parseConfig({
      comfyui: { url: `http://127.0.0.1:${port}`, timeoutMs: 5_000 },
      docker: { host: d.ok ? d.host : '', timeoutMs: 20_000 },
      container: { name, image, hostPort: port, secretFile, gpus: 'none', restartPolicy: 'no', stopTimeoutSec: 3 },
      vault: { dir: path.join(home, 'vault') },
      credential: { healthyTimeoutSec: 120 },
    });
    // Made as the recipe's compose file makes it (not by the panel, which has no user setting): uid 1000, the secret read-only.
    const c = await docker.createContainer({
      name,
      Image: image,
      Cmd: doubleArgs(),
      User: `${DOUBLE_IMAGE_UID}:${DOUBLE_IMAGE_UID}`,
      Env: [`COMFYUI_SECRET_FILE=${SECRET_IN_CONTAINER}`, 'COMFYUI_AUTH_REQUIRED=1'],
      ExposedPorts: { '8188/tcp': {} },
      HostConfig: { PortBindings: { '8188/tcp': [{ HostIp: '127.0.0.1', HostPort: String(port) }] }, Binds: [`${secretFile}:${SECRET_IN_CONTAINER}:ro`] },
    });
    await c.start();
    try {
      await waitFor('the container to answer', async () => (await fetch(`${config.comfyui.url}/system_stats`, { redirect: 'manual', signal: AbortSignal.timeout(2_000) })).status, 150_000);
    } catch (e) {
      const logs = await c.logs({ stdout: true, stderr: true, follow: false }).catch(() => Buffer.from(''));
      throw new Error(`${(e as Error).message}; state ${JSON.stringify((await c.inspect()).State)}; logs: ${logs.toString('utf8').slice(-1500)}`, { cause: e });
    }
    await openVault(config, paths()).write({ current: initial });
  }, 200_000);

  afterAll(async () => {
    await docker.getContainer(name).remove({ force: true }).catch(() => undefined);
    await fs.rm(home, { recursive: true, force: true });
  });

  const expectSecretOwnedByContainerUser = async () => {
    const st = await fs.stat(secretFile);
    expect({ uid: st.uid, gid: st.gid, mode: st.mode & 0o777 }).toEqual({ uid: DOUBLE_IMAGE_UID, gid: DOUBLE_IMAGE_UID, mode: 0o600 });
  };

  it('rotate: a session taken by the login form before gets 401 after; the secret stays uid 1000, 0600; the node wrote its own new key', async () => {
    const before = await current();
    const cookie = (await loginCookie(config.comfyui.url, before.password!))!;
    expect(cookie).toMatch(/^AIOHTTP_SESSION=/);
    expect(await stats(cookie)).toBe(200);
    const res = await actions().rotate();
    expect(res, JSON.stringify(res.steps)).toMatchObject({ ok: true, outcome: 'committed' });
    expect(res.steps.map((s) => s.name)).toContain('verify-sessions');
    expect(await stats(cookie)).toBe(401);
    await expectSecretOwnedByContainerUser();
    // The key the panel wrote was expired on purpose: ComfyUI-Login replaced it at start, as uid 1000.
    const key = await new ContainerManager(config).readFileEntry(sessionKeyPath(config.container.comfyRoot));
    expect(key.data.toString('utf8')).not.toContain(EXPIRED_KEY_TIME);
    expect(key.uid).toBe(DOUBLE_IMAGE_UID);
    // The new password opens a session; the username stays the imported one.
    const after = await current();
    expect(after.username).toBe('operator');
    expect(await stats((await loginCookie(config.comfyui.url, after.password!))!)).toBe(200);
  });

  it('a rotation that rolls back ends them too, and the old token works again', async () => {
    const before = await current();
    const cookie = (await loginCookie(config.comfyui.url, before.password!))!;
    expect(await stats(cookie)).toBe(200);
    const real = containerServer(config, new ContainerManager(config));
    const failing = { ...real, probe: async (t: string | undefined) => (t !== undefined && t !== before.hash ? { status: 500, latencyMs: 0, error: 'injected' } : real.probe(t)) };
    const res = await tokenActions(config, paths(), { actor: 'cli:test', server: failing, configFile: path.join(home, 'config.json') }).rotate();
    expect(res).toMatchObject({ ok: false, outcome: 'rolled-back', failedStep: 'verify' });
    expect((await current()).hash).toBe(before.hash);
    expect((await real.probe(before.hash)).status).toBe(200);
    expect(await stats(cookie)).toBe(401);
    await expectSecretOwnedByContainerUser();
  });

  it('unify ends them as well', async () => {
    const before = await current();
    const cookie = (await loginCookie(config.comfyui.url, before.password!))!;
    expect(await stats(cookie)).toBe(200);
    const audit = await actions().audit();
    const res = await actions().unify(audit.vault.fingerprint!);
    expect(res).toMatchObject({ ok: true, outcome: 'committed', kind: 'unify' });
    expect(await stats(cookie)).toBe(401);
    await expectSecretOwnedByContainerUser();
  });
});
