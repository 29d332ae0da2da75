import type { DockerProblem } from '../contract/ops/container.js';
import type { CheckFix } from '../contract/ops/health.js';

/**
 * Every way the setup is known to break. Docker failures use the DockerProblem kinds
 * (engine down = daemon-not-running, container missing = no-such-container, ...).
 */
export type FailureClass =
  | DockerProblem['kind']
  | 'container-stopped'
  | 'container-crashed'
  | 'container-unhealthy'
  | 'login-node-not-installed'
  | 'login-node-not-loaded'
  | 'login-node-not-enforced'
  | 'login-node-no-password'
  | 'login-node-no-token-support'
  | 'login-node-cors-origin'
  | 'login-node-import-failed'
  | 'userdata-exposed'
  | 'gpu-unused'
  | 'comfy-unreachable'
  | 'token-rejected'
  | 'no-credential'
  | 'token-mismatch'
  | 'env-conflict'
  | 'compose-unsafe-hash'
  | 'env-readable-secret'
  | 'models-missing'
  | 'generation-failed'
  | 'generation-never-run'
  | 'generation-token-override'
  | 'check-timeout';

export interface Remedy {
  /** What is wrong and why it breaks the students' notebooks. */
  explanation: string;
  /** What to do; `action` names the contract operation that does it in one click, only where that is safe (the test checks it exists). */
  fix: { text: string; action?: string };
}

/** Total by construction: the type makes a missing class a compile error, the unit test a runtime one. */
export const REMEDIES: Record<FailureClass, Remedy> = {
  'engine-not-installed': {
    explanation: 'No Docker engine is installed here, so the ComfyUI container cannot run.',
    fix: { text: 'Install Docker Engine (Linux) or Docker Desktop (Windows, macOS), or point docker.host at a remote engine.' },
  },
  'daemon-not-running': {
    explanation: 'The Docker engine is installed but not running: nothing can reach the container.',
    fix: { text: 'Start the engine: `sudo systemctl start docker` on Linux, or start Docker Desktop; for a remote engine (tcp:// or ssh://), start Docker on that host.' },
  },
  'permission-denied': {
    explanation: 'Your user may not use the Docker socket.',
    fix: { text: 'Add your user to the docker group (`sudo usermod -aG docker $USER`) and log in again.' },
  },
  'no-such-container': {
    explanation: 'The configured ComfyUI container does not exist (removed, renamed, or never created).',
    fix: { text: 'Create and start it from the configuration, or set container.name to the container you use.', action: 'containerStart' },
  },
  'no-such-image': {
    explanation: 'The container image is not on this engine, so the container cannot be created.',
    fix: { text: 'Build the image from the bundled recipe, or load it with `docker load`.', action: 'containerBuild' },
  },
  'name-conflict': {
    explanation: 'A container made by something else already uses the configured name.',
    fix: { text: 'Adopt that container so the panel manages it, or choose another container.name.', action: 'containerAdopt' },
  },
  'port-in-use': {
    explanation: 'Another process already listens on the host port, so ComfyUI cannot publish it.',
    fix: { text: 'Stop whatever holds the port (`ss -ltnp` or `docker ps` finds it) or change container.hostPort.' },
  },
  'nvidia-runtime-missing': {
    explanation: 'Docker cannot hand the GPU to the container: the NVIDIA Container Toolkit is missing.',
    fix: { text: 'Install the NVIDIA Container Toolkit (`sudo nvidia-ctk runtime configure --runtime=docker`, restart Docker), or set container.gpus to "none".' },
  },
  'mount-source-missing': {
    explanation: "A folder or file the container mounts does not exist on the engine's host, so Docker will not create the container.",
    fix: { text: 'Create the folder there, or correct container.mounts (or container.secretFile) in the config.' },
  },
  'ssh-unreachable': {
    explanation: 'The ssh server in front of the remote Docker engine cannot be reached, so nothing there can be managed.',
    fix: { text: 'Check the host and port in docker.host (or HostName/Port in ~/.ssh/config) and that `ssh <host> docker version` works from this machine.' },
  },
  'ssh-auth-failed': {
    explanation: 'The ssh server of the remote Docker engine refused every key the panel offered.',
    fix: { text: 'Install your public key on the host (`ssh-copy-id`), load it into ssh-agent (`ssh-add`), or name it with IdentityFile in ~/.ssh/config.' },
  },
  'ssh-host-unknown': {
    explanation: "The remote host's ssh key is not in known_hosts; the panel does not trust a host on first use.",
    fix: { text: 'Check the fingerprint with the host, then connect once with `ssh <host>` and accept it (or add it with ssh-keyscan).' },
  },
  'ssh-host-key-changed': {
    explanation: "The remote host's ssh key differs from the one in known_hosts (or is revoked): someone may be intercepting the connection.",
    fix: { text: 'Ask the host\'s administrator; only if the key was replaced on purpose, remove the old entry with `ssh-keygen -R <host>` and accept the new one.' },
  },
  'ssh-remote-docker': {
    explanation: 'The ssh session works, but `docker system dial-stdio` fails on the remote host, so its engine cannot be reached.',
    fix: { text: 'Install the Docker CLI on the host and check that `ssh <host> docker version` works without a prompt.' },
  },
  timeout: {
    explanation: 'The Docker engine did not answer in time; it may be overloaded or far away.',
    fix: { text: 'Check `docker info`; raise docker.timeoutMs for a slow or remote engine.' },
  },
  unknown: {
    explanation: 'Docker reported an error the panel does not recognise.',
    fix: { text: 'Read the message; `docker info` and `docker ps -a` show the engine and container state.' },
  },
  'container-stopped': {
    explanation: 'The ComfyUI container is stopped (a clean stop: exit code 0, or 143 after SIGTERM from `docker stop`): every notebook request fails to connect.',
    fix: { text: 'Start the container.', action: 'containerStart' },
  },
  'container-crashed': {
    explanation: 'The ComfyUI container exited with an error (or was killed, e.g. out of memory).',
    fix: { text: 'Read the last container log lines for the cause, then start it again.', action: 'containerStart' },
  },
  'container-unhealthy': {
    explanation: "The container runs but its Docker healthcheck fails: ComfyUI inside does not answer.",
    fix: { text: 'Read the container logs; restarting often clears a hung server.', action: 'containerRestart' },
  },
  'login-node-not-installed': {
    explanation: 'ComfyUI-Login is not in custom_nodes: the API is open to anyone who reaches the port. This was the outage of the original system.',
    fix: { text: 'Rebuild the image with ComfyUI-Login (assets/docker/comfyui-qwen) and recreate the container.', action: 'containerBuild' },
  },
  'login-node-not-loaded': {
    explanation: 'ComfyUI-Login is installed but ComfyUI did not load it (import error or disabled): the API is unprotected.',
    fix: { text: 'Look for "IMPORT FAILED" near ComfyUI-Login in the container logs, fix its dependency, then restart.', action: 'containerRestart' },
  },
  'login-node-not-enforced': {
    explanation: 'ComfyUI answers requests without a token: anyone who reaches the port can generate.',
    fix: { text: 'Make sure login/PASSWORD holds the credential (write the vault credential everywhere) and that ComfyUI-Login loads, then restart.' },
  },
  'login-node-no-password': {
    explanation: 'ComfyUI-Login has no password (login/PASSWORD is missing or empty): an empty token passes, and the first visitor to /login chooses the password and owns the server.',
    fix: { text: "Write the vault's credential to every location (login/PASSWORD, or the secret file the entrypoint copies) and restart ComfyUI.", action: 'tokenUnify' },
  },
  'login-node-no-token-support': {
    explanation: 'This ComfyUI-Login version has no token support: it answers tokens with a redirect to /login, so every script gets a login page, and it reads <ComfyUI>/PASSWORD instead of login/PASSWORD, so the first visitor may set the password.',
    fix: { text: 'Rebuild the image from assets/docker/comfyui-qwen (it pins ComfyUI-Login 69109257f4, which takes tokens) and recreate the container.', action: 'containerBuild' },
  },
  'login-node-cors-origin': {
    explanation: 'ComfyUI runs with --enable-cors-header and a specific origin: ComfyUI-Login then checks tokens only on requests from that Origin, so notebooks and scripts (no Origin header) get 401 with a valid token.',
    fix: { text: 'Remove --enable-cors-header ORIGIN from the container command (or use it without an origin, or with *), then recreate the container.' },
  },
  'login-node-import-failed': {
    explanation: 'ComfyUI lists ComfyUI-Login under IMPORT FAILED: ComfyUI runs on without it, so the API has no authentication at all.',
    fix: { text: 'Read the traceback above "IMPORT FAILED" in the container logs (often a missing Python module, e.g. pycryptodome for `Crypto`), fix it in the image, rebuild and restart.', action: 'containerBuild' },
  },
  'userdata-exposed': {
    explanation: "ComfyUI-Login lets any path ending in .js or .css through without a login, so anyone who reaches the port can write files into ComfyUI's user data (e.g. user.css, which the front end loads into every operator's browser).",
    fix: { text: "Keep the port on this machine only (container.bindAddress 127.0.0.1, the default); let others in through the panel's gateway (`comfy-panel gateway run`, README \"Gateway\"), which checks a per-client key on every path." },
  },
  'gpu-unused': {
    explanation: "The container has a GPU but ComfyUI's PyTorch does not use it: every generation runs on the CPU, many times slower.",
    fix: { text: 'Rebuild the image with a CUDA build of PyTorch that the driver supports (nvidia-smi shows its CUDA version), and check ComfyUI is not started with --cpu.' },
  },
  'comfy-unreachable': {
    explanation: 'Nothing answers at the configured ComfyUI URL although the container runs.',
    fix: { text: 'Check comfyui.url and the published port (container.hostPort); read the container logs for a startup error.' },
  },
  'token-rejected': {
    explanation:
      "ComfyUI refuses the vault's token. The API token is the bcrypt HASH on line 1 of login/PASSWORD, not the password; the server only rereads PASSWORD on restart.",
    fix: { text: "Write the vault's token to every location and restart ComfyUI; notebooks must send the hash as Bearer token.", action: 'tokenUnify' },
  },
  'no-credential': {
    explanation: 'The panel holds no credential yet, so it cannot check or hand out the token.',
    fix: { text: "Import the running container's credential (or create one with `comfy-panel token init`).", action: 'tokenImport' },
  },
  'token-mismatch': {
    explanation: 'Some copies of the token differ from the vault: whoever reads them gets 401.',
    fix: { text: "Write the vault's token to every location and restart ComfyUI.", action: 'tokenUnify' },
  },
  'env-conflict': {
    explanation: '.env files give the same key different values, so which one a notebook uses depends on how it is started.',
    fix: { text: 'Write the same values to every .env target from the panel.', action: 'envSyncApply' },
  },
  'compose-unsafe-hash': {
    explanation: 'A bcrypt hash is unquoted (or double-quoted) in a compose .env: compose expands its $2b$12$… parts and the token arrives mangled.',
    fix: { text: 'Single-quote the value (or rewrite the file from the panel).', action: 'envSyncApply' },
  },
  'env-readable-secret': {
    explanation: 'A .env file holding the ComfyUI token (or password) may be read by other users of this machine, and the token opens the whole API.',
    fix: { text: 'Make it readable by its owner only (chmod 600), or rewrite the env targets from the panel (it writes them 0600).', action: 'envSyncApply' },
  },
  'models-missing': {
    explanation: 'The workflow needs model files the server does not have, so generations fail before they start.',
    fix: { text: 'Put the named files in the named models/ folder (mounted into the container), then restart ComfyUI so it rescans.' },
  },
  'generation-failed': {
    explanation: 'The last smoke generation failed, so notebooks will likely fail too.',
    fix: { text: 'Read the error of the last run, fix it, and run the smoke test again.', action: 'generateRun' },
  },
  'generation-never-run': {
    explanation: 'No smoke generation has run yet, so nothing shows that a notebook can generate end to end.',
    fix: { text: 'Run the smoke test.', action: 'generateRun' },
  },
  'generation-token-override': {
    explanation: "The last smoke run used a token given for that run (e.g. COMFYUI_TOKEN), not the vault's, and the server refused it: the vault's token is not in question.",
    fix: { text: "Correct or remove the override (the vault's token is what the panel sends by default) and run the smoke test again.", action: 'generateRun' },
  },
  'check-timeout': {
    explanation: 'A check got no answer in time: something it waits on (engine, container, server) hangs.',
    fix: { text: 'See which service the check asks; raise health.checkTimeoutMs only if it is merely slow.' },
  },
};

export const failureClasses = Object.keys(REMEDIES) as FailureClass[];

/**
 * The fix for a class, with the operation's input where it needs one; `text` replaces the generic
 * text when a more precise one is known; `withoutAction` when the one-click fix would not reach the cause.
 */
export function fixFor(failure: FailureClass, opts: { text?: string; input?: CheckFix['input']; withoutAction?: boolean } = {}): CheckFix {
  const { fix, explanation } = REMEDIES[failure];
  return { text: opts.text ?? fix.text, ...(fix.action && !opts.withoutAction ? { action: fix.action } : {}), ...(opts.input ? { input: opts.input } : {}), failure, explanation };
}
