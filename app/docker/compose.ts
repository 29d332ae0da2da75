/**
 * Compose-owned containers: the panel never recreates them behind compose's back. It shows the
 * compose command that applies a change (from the container's compose labels) and runs it only
 * where the `docker compose` plugin is present, after the operator said yes.
 */
import { execFile } from 'node:child_process';
import type { ComposeOrigin } from '../contract/ops/health.js';
import { errorMessage, PanelError } from '../errors.js';
import { redact } from '../redact.js';

export const COMPOSE_LABELS = {
  project: 'com.docker.compose.project',
  service: 'com.docker.compose.service',
  workingDir: 'com.docker.compose.project.working_dir',
  configFiles: 'com.docker.compose.project.config_files',
} as const;

/** The compose project, service and files a container's labels name; undefined for a container compose did not make. */
export function composeOrigin(labels: Record<string, string> | undefined): ComposeOrigin | undefined {
  const project = labels?.[COMPOSE_LABELS.project];
  if (!project) return undefined;
  return {
    project,
    service: labels[COMPOSE_LABELS.service] ?? '',
    workingDir: labels[COMPOSE_LABELS.workingDir] ?? '',
    configFiles: (labels[COMPOSE_LABELS.configFiles] ?? '').split(',').filter(Boolean),
  };
}

export interface ComposeCommand {
  /** argv, starting with "docker". */
  argv: string[];
  /** The same, quoted for a POSIX shell, with DOCKER_HOST in front when the engine is not the default one. */
  text: string;
  /** Where to run it. */
  cwd: string;
  env: Record<string, string>;
}

const shellQuote = (s: string) => (/^[A-Za-z0-9_@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);

/**
 * `docker compose … up -d --no-deps --force-recreate SERVICE` for the project the labels name:
 * compose re-reads its files (env_file included) and makes the container again, so a changed
 * env file or compose file reaches the container's environment. A restart never would.
 */
export function composeRecreateCommand(origin: ComposeOrigin, dockerHost?: string): ComposeCommand {
  const argv = [
    'docker',
    'compose',
    ...(origin.workingDir ? ['--project-directory', origin.workingDir] : []),
    '-p',
    origin.project,
    ...origin.configFiles.flatMap((f) => ['-f', f]),
    'up',
    '-d',
    '--no-deps',
    '--force-recreate',
    origin.service,
  ];
  const env: Record<string, string> = dockerHost ? { DOCKER_HOST: dockerHost } : {};
  const text = [...Object.entries(env).map(([k, v]) => `${k}=${shellQuote(v)}`), ...argv.map(shellQuote)].join(' ');
  return { argv, text, cwd: origin.workingDir || '.', env };
}

function run(argv: string[], opts: { cwd?: string; env?: Record<string, string>; timeoutMs: number }): Promise<{ code: number; stdout: string; stderr: string }> {
  const [cmd, ...args] = argv;
  return new Promise((resolve) => {
    execFile(cmd ?? 'docker', args, { cwd: opts.cwd, env: { ...process.env, ...opts.env }, timeout: opts.timeoutMs, maxBuffer: 4 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : 127) : 0;
      resolve({ code, stdout: String(stdout), stderr: err && !stderr ? errorMessage(err) : String(stderr) });
    });
  });
}

/** The `docker compose` plugin's version, or undefined where it is not installed. */
export async function composeVersion(): Promise<string | undefined> {
  const r = await run(['docker', 'compose', 'version', '--short'], { timeoutMs: 10_000 });
  return r.code === 0 ? r.stdout.trim() : undefined;
}

/** Runs the command (the caller asked the operator first). The output is redacted: compose may print env values. */
export async function runComposeCommand(command: ComposeCommand, timeoutMs = 600_000): Promise<{ output: string }> {
  if ((await composeVersion()) === undefined) {
    throw new PanelError('the docker compose plugin is not installed here', 'compose-missing', `Run it where compose is installed: ${command.text}`);
  }
  const r = await run(command.argv, { cwd: command.cwd, env: command.env, timeoutMs });
  const output = redact(`${r.stdout}${r.stderr}`).slice(-8000);
  if (r.code !== 0) throw new PanelError(`docker compose exited with ${r.code}: ${output.trim().split('\n').slice(-3).join(' ')}`, 'compose-failed', `Run it by hand to see all: ${command.text}`);
  return { output };
}
