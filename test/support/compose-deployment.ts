/**
 * A ComfyUI deployment made as `docker compose up -d` makes it (compose is not installed here):
 * a project folder with compose.yaml, the project .env, env_file entries (one `format: raw`), a
 * secret file owned by uid 1000 mounted read-only, and a container of the double with compose's
 * labels, its env_file values in its environment, running as 1000:1000.
 *
 *   const dep = await composeDeployment(docker, { prefix: 'adopt-x1' });
 *   // comfy-panel setup --adopt dep.name …
 *   await dep.remove();
 */
import { chownSync, promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type Docker from 'dockerode';
import { createCredential, passwordFileContent, type Credential } from '../../app/tokens/credential.js';
import { doubleArgs, DOUBLE_IMAGE_UID, ensureDoubleImage } from './double-image.js';

export interface ComposeDeployment {
  name: string;
  project: string;
  projectDir: string;
  secretFile: string;
  credential: Credential;
  image: string;
  port: number;
  url: string;
  remove(): Promise<void>;
}

export interface ComposeDeploymentOptions {
  /** Names the project, container and folder (the helper's `adopt-<random>` prefix). */
  prefix: string;
  hostPort: number;
  /** Also pass the token in the container's own environment (COMFYUI_BEARER_TOKEN from its env_file). */
  tokenInContainerEnv?: boolean;
}

const SECRET_TARGET = '/run/secrets/comfyui-password';

export async function composeDeployment(docker: Docker, opts: ComposeDeploymentOptions): Promise<ComposeDeployment> {
  const image = await ensureDoubleImage(docker);
  const projectDir = await fs.mkdtemp(path.join(os.tmpdir(), `${opts.prefix}-project-`));
  const project = opts.prefix.toLowerCase().replace(/[^a-z0-9_-]/g, '');
  const service = 'comfyui';
  const name = `${project}-${service}-1`;
  const credential = await createCredential('operator');
  const url = `http://127.0.0.1:${opts.hostPort}`;

  // The secret: owned by the container's user, 0600, mounted read-only (compose's `secrets:`).
  const secretFile = path.join(projectDir, '.secrets', 'qwen-api-user.token');
  await fs.mkdir(path.dirname(secretFile), { recursive: true });
  await fs.writeFile(secretFile, passwordFileContent(credential), { mode: 0o600 });
  chownSync(secretFile, DOUBLE_IMAGE_UID, DOUBLE_IMAGE_UID);

  const serverEnv = ['COMFYUI_SECRET_FILE=/run/secrets/comfyui-password', 'COMFYUI_AUTH_REQUIRED=1', ...(opts.tokenInContainerEnv ? [`COMFYUI_BEARER_TOKEN=${credential.hash}`] : [])];
  // As compose reads it: the hash single-quoted in the file is the bare hash in the container.
  await fs.writeFile(path.join(projectDir, 'comfyui.env'), `${serverEnv.map((l) => (l.startsWith('COMFYUI_BEARER_TOKEN=') ? `COMFYUI_BEARER_TOKEN='${credential.hash}'` : l)).join('\n')}\n`);
  // The project .env (compose reads it for interpolation): the hash single-quoted, as compose needs.
  await fs.writeFile(path.join(projectDir, '.env'), `COMFYUI_TOKEN='${credential.hash}'\nCOMFYUI_URL=${url}\n`);
  // A client service's env_file with format: raw: the hash bare, quotes would be kept literally.
  await fs.writeFile(path.join(projectDir, 'client.env'), `COMFYUI_BEARER_TOKEN=${credential.hash}\nCOMFYUI_API_URL=${url}\n`);
  // A notebook folder read by python-dotenv / npm dotenv.
  await fs.mkdir(path.join(projectDir, 'notebooks'));
  await fs.writeFile(path.join(projectDir, 'notebooks', '.env'), `COMFY_TOKEN='${credential.hash}'\nCOMFY_USER=operator\n`);
  const composeFile = path.join(projectDir, 'compose.yaml');
  await fs.writeFile(
    composeFile,
    [
      `name: ${project}`,
      'services:',
      `  ${service}:`,
      `    image: ${image}`,
      '    user: "1000:1000"',
      '    env_file: [comfyui.env]',
      `    ports: ["127.0.0.1:${opts.hostPort}:8188"]`,
      '    secrets: [comfyui-password]',
      '    healthcheck:',
      '      test: ["CMD", "/usr/local/bin/comfy-healthcheck"]',
      '      interval: 1s',
      '      timeout: 10s',
      '      retries: 3',
      '      start_period: 30s',
      '    restart: unless-stopped',
      '  client:',
      `    image: ${image}`,
      '    env_file:',
      '      - path: client.env',
      '        format: raw',
      'secrets:',
      '  comfyui-password:',
      '    file: ./.secrets/qwen-api-user.token',
      '',
    ].join('\n'),
  );

  const NS = 1_000_000_000;
  const container = await docker.createContainer({
    name,
    Image: image,
    Cmd: doubleArgs(),
    User: '1000:1000',
    Env: serverEnv,
    ExposedPorts: { '8188/tcp': {} },
    Labels: {
      'com.docker.compose.project': project,
      'com.docker.compose.service': service,
      'com.docker.compose.project.working_dir': projectDir,
      'com.docker.compose.project.config_files': composeFile,
      'com.docker.compose.container-number': '1',
      'com.docker.compose.oneoff': 'False',
      'com.docker.compose.version': '2.29.7',
    },
    Healthcheck: { Test: ['CMD', '/usr/local/bin/comfy-healthcheck'], Interval: NS, Timeout: 10 * NS, Retries: 3, StartPeriod: 30 * NS },
    HostConfig: {
      PortBindings: { '8188/tcp': [{ HostIp: '127.0.0.1', HostPort: String(opts.hostPort) }] },
      Mounts: [{ Type: 'bind', Source: secretFile, Target: SECRET_TARGET, ReadOnly: true }],
      RestartPolicy: { Name: 'unless-stopped' },
    },
  });
  await container.start();
  return {
    name,
    project,
    projectDir,
    secretFile,
    credential,
    image,
    port: opts.hostPort,
    url,
    remove: async () => {
      await container.remove({ force: true }).catch(() => undefined);
      await fs.rm(projectDir, { recursive: true, force: true });
    },
  };
}
