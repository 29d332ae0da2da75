import { z } from 'zod';
import { dialectLabels, dialects, envValueSources, instanceIdPattern } from '../contract/names.js';

// The lists live with the contract's other names, so the UI can have them without zod.
export { dialects, envValueSources, type Dialect } from '../contract/names.js';

export const EnvTargetSchema = z
  .object({
    path: z.string().min(1).describe('File to write, absolute or relative to env.root'),
    dialect: z.enum(dialects).describe(`Which reader the file is for: ${dialects.map((d) => `${d} (${dialectLabels[d].description})`).join('; ')}`),
    keys: z
      .record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'a key name: letters, digits and _, not starting with a digit'), z.enum(envValueSources))
      .describe('Key name -> the value it carries, e.g. {"COMFYUI_BEARER_TOKEN": "token"}'),
    clientKey: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'a gateway key name')
      .optional()
      .describe('With gateway.enabled: the gateway client key this target gets. Its token keys carry that key and its url keys the gateway, written when `key create/rotate NAME` issues it; credential rotations leave the file alone'),
  })
  .strict();

export const MountSchema = z
  .object({
    source: z.string().min(1).describe('Host path'),
    target: z.string().startsWith('/').describe('Path inside the container'),
    readOnly: z.boolean().default(false),
  })
  .strict();

/** The outbound notification channels (issue 15): what each posts is in app/notify/channels.ts. */
export const notificationKinds = ['webhook', 'ntfy', 'slack', 'discord'] as const;

export const NotificationChannelSchema = z
  .object({
    name: z.string().min(1).max(60).describe('How the channel is named in the panel and in test results'),
    kind: z
      .enum(notificationKinds)
      .describe('webhook: JSON of the change; ntfy: a ntfy topic URL (text, Title/Priority/Tags headers); slack, discord: their incoming-webhook URLs (also Mattermost, Rocket.Chat)'),
    url: z
      .url({ protocol: /^https?$/ })
      .describe('Where the notification is POSTed; often holds a secret (Slack, Discord), so the panel never shows or logs it whole'),
    headers: z.record(z.string(), z.string()).optional().describe('Extra request headers, e.g. Authorization for a protected ntfy server'),
    enabled: z.boolean().default(true),
  })
  .strict();

/**
 * The front door (issue 18): the gateway container beside ComfyUI on a private Docker network.
 * With `enabled`, the gateway's port is the only one published and the ComfyUI container joins
 * the network under `upstreamAlias` without a published port.
 */
export const GatewaySchema = z
  .object({
    enabled: z.boolean().default(false).describe('Run the gateway in front of ComfyUI: per-client API keys, ComfyUI no longer published'),
    name: z.string().regex(/^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/, 'a Docker container name').default('comfyui-gateway').describe('The gateway container'),
    image: z.string().min(1).default('comfy-panel-gateway:latest').describe('Built from assets/docker/gateway'),
    network: z.string().regex(/^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/, 'a Docker network name').default('comfy-panel').describe('Private Docker network of the gateway and the ComfyUI container; created when missing'),
    upstreamAlias: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'a host name').default('comfyui').describe('Name of the ComfyUI container on that network'),
    hostPort: z.int().min(1).max(65535).default(8189).describe('Host port clients use: the only published port'),
    bindAddress: z.string().default('127.0.0.1').describe('Host address the gateway is published on; 0.0.0.0 to serve the network'),
    stateDir: z.string().optional().describe("The panel's folder with keys.json (hashes only), usage/ and the session key, bind-mounted into the gateway on a local engine; default: <data folder>/gateway"),
    stateVolume: z
      .string()
      .regex(/^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/, 'a Docker volume name')
      .optional()
      .describe("The gateway's state as a named volume on the engine instead of a bind mount of stateDir, the panel copying keys.json in and usage/ out through the engine; the default on a remote engine (ssh, tcp: a host path there is on the other machine), <gateway name>-state. Set it for a unix socket forwarded from another host"),
    restartPolicy: z.enum(['no', 'always', 'unless-stopped', 'on-failure']).default('unless-stopped'),
    stopTimeoutSec: z.int().min(0).max(600).default(10),
    drainTimeoutSec: z.int().min(0).max(86_400).default(600).describe('Before ComfyUI restarts (a rotation), how long the running prompt may take to finish while new ones get 503'),
    healthcheck: z
      .object({
        intervalSec: z.int().min(1).max(3600).default(10),
        timeoutSec: z.int().min(1).max(600).default(3),
        retries: z.int().min(1).max(100).default(3),
        startPeriodSec: z.int().min(0).max(3600).default(5),
      })
      .strict()
      .default({ intervalSec: 10, timeoutSec: 3, retries: 3, startPeriodSec: 5 }),
  })
  .strict();

export const ComfyuiSchema = z
  .object({
    url: z.url({ protocol: /^https?$/ }).default('http://127.0.0.1:8188').describe('Base URL of the ComfyUI server'),
    timeoutMs: z.int().min(100).max(600_000).default(10_000),
  })
  .strict()
  .default({ url: 'http://127.0.0.1:8188', timeoutMs: 10_000 });

export const DockerSchema = z
  .object({
    host: z
      .string()
      .regex(/^(unix|npipe|tcp|ssh|http|https):\/\//, 'a Docker host URL such as unix:///var/run/docker.sock, tcp://host:2376 or ssh://user@host')
      .optional()
      .describe('Docker engine address; unset = DOCKER_HOST, then the current Docker context, then the platform default'),
    context: z.string().optional().describe('Docker context name to use instead of the current one'),
    tlsVerify: z.boolean().optional(),
    certPath: z.string().optional().describe('Folder with ca.pem, cert.pem, key.pem for tcp+TLS'),
    timeoutMs: z
      .int()
      .min(100)
      .max(120_000)
      .default(5_000)
      .describe('Deadline of one engine call; calls that change the container get 6 times that, stop and restart also their stop timeout'),
  })
  .strict()
  .default({ timeoutMs: 5_000 });

export const ContainerSchema = z
  .object({
    name: z.string().regex(/^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/, 'a Docker container name').default('comfyui-qwen'),
    image: z.string().min(1).default('comfyui-qwen:latest'),
    comfyRoot: z.string().startsWith('/').default('/workspace/ComfyUI').describe('ComfyUI folder inside the container'),
    hostPort: z.int().min(1).max(65535).default(8188),
    containerPort: z.int().min(1).max(65535).default(8188),
    bindAddress: z.string().default('127.0.0.1').describe('Host address the port is published on; 127.0.0.1 keeps it off the network'),
    gpus: z
      .union([z.literal('all'), z.literal('none'), z.array(z.string().min(1)).min(1)])
      .default('all')
      .describe('"all", "none", or a list of GPU device ids'),
    mounts: z.array(MountSchema).default([]),
    env: z.record(z.string(), z.string()).default({}),
    secretFile: z.string().optional().describe('Host file holding the PASSWORD content, mounted read-only into the container'),
    secretTarget: z
      .string()
      .startsWith('/')
      .optional()
      .describe("Where container.secretFile is mounted inside the container (the entrypoint's COMFYUI_SECRET_FILE); default /run/secrets/comfyui-password"),
    user: z
      .string()
      .regex(/^[A-Za-z0-9_.-]+(:[A-Za-z0-9_.-]+)?$/, 'a user as `docker run --user` takes it: uid[:gid] or name[:group]')
      .optional()
      .describe('User the container runs as, e.g. "1000:1000" (the recipe\'s non-root user); unset: the image\'s user'),
    tokenEnvKeys: z
      .array(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'a key name: letters, digits and _, not starting with a digit'))
      .optional()
      .describe("Keys of the container's own environment that carry the token (e.g. COMFYUI_BEARER_TOKEN set by compose from an env_file); audited as container-env:<KEY>, changed only by recreating the container"),
    authRequired: z.boolean().default(true).describe('Refuse to consider the server healthy unless ComfyUI-Login enforces auth'),
    restartPolicy: z.enum(['no', 'always', 'unless-stopped', 'on-failure']).default('unless-stopped'),
    stopTimeoutSec: z.int().min(0).max(600).default(20),
    command: z.array(z.string()).optional(),
    healthcheck: z
      .object({
        command: z
          .array(z.string().min(1))
          .min(1)
          .default(['/usr/local/bin/comfy-healthcheck'])
          .describe('Healthcheck run inside the container without a shell; exits 0 when ComfyUI answers, 401 included'),
        intervalSec: z.int().min(1).max(3600).default(30),
        timeoutSec: z.int().min(1).max(600).default(5),
        retries: z.int().min(1).max(100).default(3),
        startPeriodSec: z.int().min(0).max(3600).default(60),
      })
      .strict()
      .default({ command: ['/usr/local/bin/comfy-healthcheck'], intervalSec: 30, timeoutSec: 5, retries: 3, startPeriodSec: 60 })
      .describe('Docker healthcheck of the managed container'),
  })
  .strict()
  .default({
    name: 'comfyui-qwen',
    image: 'comfyui-qwen:latest',
    comfyRoot: '/workspace/ComfyUI',
    hostPort: 8188,
    containerPort: 8188,
    bindAddress: '127.0.0.1',
    gpus: 'all',
    mounts: [],
    env: {},
    authRequired: true,
    restartPolicy: 'unless-stopped',
    stopTimeoutSec: 20,
    healthcheck: { command: ['/usr/local/bin/comfy-healthcheck'], intervalSec: 30, timeoutSec: 5, retries: 3, startPeriodSec: 60 },
  });

export const VaultSchema = z
  .object({ dir: z.string().optional().describe('Folder for the encrypted credential vault; default: the data folder') })
  .strict()
  .default({});

export const CredentialSchema = z
  .object({
    username: z.string().min(1).default('comfy').describe('Username written on line 2 of login/PASSWORD (ComfyUI-Login never checks it)'),
    healthyTimeoutSec: z.int().min(5).max(3_600).default(300).describe('How long a rotation waits for ComfyUI to be healthy after the restart'),
  })
  .strict()
  .default({ username: 'comfy', healthyTimeoutSec: 300 });

export const EnvSchema = z
  .object({
    root: z.string().optional().describe("Project folder scanned for .env files, where relative target paths start; relative to the config file's folder; default: the config file's folder"),
    include: z.array(z.string()).default(['.env', '.env.*', '*.env']),
    exclude: z.array(z.string()).default(['node_modules', '.git', 'dist', 'build', 'out', '.venv', '__pycache__']),
    targets: z.array(EnvTargetSchema).default([]),
  })
  .strict()
  .default({
    include: ['.env', '.env.*', '*.env'],
    exclude: ['node_modules', '.git', 'dist', 'build', 'out', '.venv', '__pycache__'],
    targets: [],
  });

/**
 * One deployment of the fleet (issue 19): its own engine, container, ComfyUI, vault, env targets
 * and gateway. A section an instance omits is the top-level one; a section it gives replaces that
 * one whole (with its own defaults), so what an instance runs on is read in one place.
 */
export const InstanceSchema = z
  .object({
    id: z.string().regex(instanceIdPattern, 'an instance id: lower-case letters, digits and -, up to 32').describe('Used by --instance ID, in events and as its data folder name (instances/<id>; "default" keeps the data folder itself)'),
    label: z.string().min(1).max(60).optional().describe('How the instance is named in the panel; default: its id'),
    docker: DockerSchema.unwrap().optional(),
    container: ContainerSchema.unwrap().optional(),
    comfyui: ComfyuiSchema.unwrap().optional(),
    vault: VaultSchema.unwrap().optional(),
    credential: CredentialSchema.unwrap().optional(),
    env: EnvSchema.unwrap().optional(),
    gateway: GatewaySchema.optional(),
  })
  .strict();

/** The sections an instance may give for itself; the rest (backups, health, notifications) is the panel's. */
export const instanceSections = ['docker', 'container', 'comfyui', 'vault', 'credential', 'env', 'gateway'] as const;

export const PanelConfigSchema = z
  .object({
    $schema: z.string().optional(),
    comfyui: ComfyuiSchema,
    docker: DockerSchema,
    container: ContainerSchema,
    vault: VaultSchema,
    credential: CredentialSchema,
    env: EnvSchema,
    gateway: GatewaySchema.default(GatewaySchema.parse({})),
    backups: z
      .object({
        keep: z
          .int()
          .min(0)
          .max(1_000)
          .default(3)
          .describe('Backups kept per file (the vault, each env target) and per kind of journal; older ones hold old credentials and are deleted after each successful rotation or env sync'),
      })
      .strict()
      .default({ keep: 3 }),
    health: z
      .object({
        intervalSec: z.int().min(5).max(86_400).default(60),
        retries: z.int().min(0).max(10).default(1),
        checkTimeoutMs: z.int().min(100).max(120_000).default(5_000),
        probeRequests: z.int().min(1).max(10_000).default(50),
        checkMemoryMb: z.int().min(16).max(8_192).default(256).describe('Heap limit of a heavy check (the .env audit), run in a worker so it can never exhaust the panel'),
      })
      .strict()
      .default({ intervalSec: 60, retries: 1, checkTimeoutMs: 5_000, probeRequests: 50, checkMemoryMb: 256 }),
    notifications: z
      .object({
        channels: z.array(NotificationChannelSchema).default([]).describe('Told when a health check changes state (never on a sweep that changes nothing), with the check, old and new state and the fix'),
        timeoutMs: z.int().min(500).max(60_000).default(5_000).describe('How long one channel may take to accept a notification'),
      })
      .strict()
      .default({ channels: [], timeoutMs: 5_000 }),
    instances: z
      .array(InstanceSchema)
      .min(1)
      .optional()
      .describe('The deployments this panel manages (the fleet). Unset: one instance, "default", made of the top-level sections'),
  })
  .strict()
  .superRefine((config, ctx) => {
    const list = config.instances ?? [];
    const seen = new Map<string, number>();
    const claim = (what: string, key: string, i: number, path: (string | number)[], fix: string) => {
      const k = `${what}\0${key}`;
      const first = seen.get(k);
      if (first === undefined) seen.set(k, i);
      else ctx.addIssue({ code: 'custom', path: ['instances', i, ...path], message: `${fix} (instance ${list[first]!.id} has the same)` });
    };
    list.forEach((inst, i) => {
      claim('id', inst.id, i, ['id'], `instance id "${inst.id}" is used twice`);
      // Two instances on one engine are two containers: names and host ports must differ.
      const docker = inst.docker ?? config.docker;
      const engine = docker.host ?? `context:${docker.context ?? ''}`;
      const container = inst.container ?? config.container;
      claim('container', `${engine}\0${container.name}`, i, ['container', 'name'], `container "${container.name}" on that engine belongs to another instance: give this one its own container.name`);
      const gateway = inst.gateway ?? config.gateway;
      const published = gateway.enabled ? `${gateway.bindAddress}:${gateway.hostPort}` : `${container.bindAddress}:${container.hostPort}`;
      claim('port', `${engine}\0${published}`, i, [gateway.enabled ? 'gateway' : 'container', 'hostPort'], `host port ${published} on that engine is another instance's: give this one its own`);
      if (gateway.enabled) claim('container', `${engine}\0${gateway.name}`, i, ['gateway', 'name'], `gateway container "${gateway.name}" on that engine belongs to another instance: give this one its own gateway.name`);
      // On one network two ComfyUI containers under one alias would be one name for both: a gateway could reach the other's.
      if (gateway.enabled) claim('network', `${engine}\0${gateway.network}\0${gateway.upstreamAlias}`, i, ['gateway', 'network'], `gateway.network ${gateway.network} with upstreamAlias ${gateway.upstreamAlias} on that engine is another instance's: give this one its own network`);
      // Each env target holds its instance's credential: two instances writing one file would overwrite each other's token.
      const env = inst.env ?? config.env;
      const files = new Map<string, number>();
      env.targets.forEach((t, j) => {
        const absolute = t.path.startsWith('/') || /^[A-Za-z]:[\\/]/.test(t.path);
        const file = absolute ? t.path : `${env.root ?? '(the config folder)'}/${t.path.replace(/^\.\//, '')}`;
        if (!files.has(file)) files.set(file, j);
      });
      for (const [file, j] of files) claim('env', file, i, ['env', 'targets', j, 'path'], `env target ${file} is another instance's file: give this instance an env section of its own (its own root or target paths)`);
      // Credentials are never shared: an explicit vault folder is one instance's only.
      const vaultDir = (inst.vault ?? config.vault).dir;
      if (vaultDir !== undefined) claim('vault', vaultDir, i, ['vault', 'dir'], `vault.dir ${vaultDir} is another instance's: each instance keeps its own credential`);
    });
  });

export type PanelConfig = z.output<typeof PanelConfigSchema>;
export type PanelConfigInput = z.input<typeof PanelConfigSchema>;
export type EnvTarget = z.output<typeof EnvTargetSchema>;
export type NotificationChannel = z.output<typeof NotificationChannelSchema>;
export type GatewayConfig = z.output<typeof GatewaySchema>;
export type InstanceConfig = z.output<typeof InstanceSchema>;
