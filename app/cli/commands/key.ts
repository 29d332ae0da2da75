import { Option, type Command } from 'commander';
import { clientUsage, createClientKey, listClientKeys, parseDuration, parseExpiry, parseRate, revokeClientKey, rotateClientKey, type ClientKeyView, type CreatedClientKey } from '../../gateway/clients.js';
import { GatewayManager } from '../../docker/gateway.js';
import type { GatewayState } from '../../gateway/state.js';
import { issueClientKey } from '../../gateway/env-targets.js';
import { resolveEnvRoot } from '../../env/root.js';
import { SCOPES, type Scope } from '../../gateway/keys.js';
import { PanelError } from '../../errors.js';
import { vaultDir } from '../../tokens/vault.js';
import type { CliContext } from '../context.js';

const KEY_NOTE = 'This is the only time the key is shown: only its SHA-256 is stored.';

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n <= 0) throw new PanelError(`"${value}": expected a whole number > 0`, 'gateway-key-limit');
  return n;
}

const keyLine = (k: ClientKeyView) =>
  `${k.name.padEnd(20)} ${k.scope.padEnd(8)} ${k.state.padEnd(8)} …${k.hint}  ${k.expiresAt ? `expires ${k.expiresAt}` : 'no expiry'}${k.revokedAt ? `, revoked ${k.revokedAt}` : ''}${k.rateLimit ? `, ${k.rateLimit.requests}/${k.rateLimit.perSeconds}s` : ''}${k.maxQueued ? `, ${k.maxQueued} queued at most` : ''}`;

const createdText = (k: CreatedClientKey) => `${k.key}\n${k.name}: ${k.scope} key${k.expiresAt ? `, expires ${k.expiresAt}` : ''}\n${KEY_NOTE}`;

/** `key create|list|revoke|rotate|usage`: the gateway's client keys of the configured deployment. */
export function registerKeyCommands(program: Command, cli: CliContext): void {
  const key = program.command('key').description("the gateway's per-client API keys (cpk_…): create, list, revoke, rotate, usage");
  const stateDir = async () => new GatewayManager((await cli.config()).config, { dataDir: cli.paths.dataDir }).state;
  /** Issues the key and writes it into the env targets that get it (env.targets[].clientKey) now: the only moment the key exists. */
  const issue = async <K extends CreatedClientKey>(name: string, make: (state: GatewayState) => Promise<K>) => {
    const loaded = await cli.config();
    const dir = await stateDir();
    return issueClientKey(loaded.config, resolveEnvRoot(loaded.config.env, loaded.path), vaultDir(loaded.config, cli.paths), name, () => make(dir));
  };
  const envText = (files: string[]) => (files.length ? `\nwritten to ${files.join(', ')}` : '');

  key
    .command('create')
    .description('PRINTS THE NEW KEY ONCE: a named key with a scope, optional expiry, rate limit and queue share')
    .argument('<name>', 'what the key is for, e.g. notebook-alice')
    .addOption(new Option('--scope <scope>', 'read: status and history; generate: + prompts, view, upload, WebSocket; admin: everything').choices(SCOPES.filter((s) => s !== 'control')).default('generate'))
    .option('--expires <when>', 'a duration from now (7d) or a date (2026-12-31)')
    .option('--rate <n/period>', 'at most N requests per period, e.g. 60/1m')
    .option('--max-queued <n>', "at most this many of the key's prompts queued or running", positiveInt)
    .action(async (name: string, o: { scope: Scope; expires?: string; rate?: string; maxQueued?: number }) => {
      const input = {
        name,
        scope: o.scope,
        ...(o.expires ? { expiresAt: parseExpiry(o.expires) } : {}),
        ...(o.rate ? { rateLimit: parseRate(o.rate) } : {}),
        ...(o.maxQueued ? { maxQueued: o.maxQueued } : {}),
      };
      const k = await issue(name, (dir) => createClientKey(dir, input));
      // reveal: handing the key over is what this command is for; redaction would hide it.
      cli.print({ json: k, human: () => createdText(k) + envText(k.envFiles), reveal: true });
    });

  key
    .command('list')
    .description('every key with scope, state and expiry (never the key itself)')
    .action(async () => {
      const keys = await listClientKeys(await stateDir());
      cli.print({ json: { keys }, human: () => (keys.length ? keys.map(keyLine).join('\n') : 'no keys yet: comfy-panel key create NAME') });
    });

  key
    .command('revoke')
    .description('revoke a key (by name: a rotating pair too) within a second, its open WebSockets included')
    .argument('<name>', 'key name or id')
    .action(async (name: string) => {
      const revoked = await revokeClientKey(await stateDir(), name);
      cli.print({ json: { revoked }, human: () => revoked.map((k) => `revoked ${k.name} (…${k.hint})`).join('\n') });
    });

  key
    .command('rotate')
    .description('PRINTS THE SUCCESSOR ONCE: a new key of the same name and scope; the old one stays valid for the overlap')
    .argument('<name>', 'key name')
    .requiredOption('--overlap <duration>', 'how long the old key keeps working, e.g. 1h, 7d (0s: not at all)')
    .action(async (name: string, o: { overlap: string }) => {
      const overlapMs = parseDuration(o.overlap, '--overlap');
      const r = await issue(name, (dir) => rotateClientKey(dir, name, overlapMs));
      const users = r.previous.stillUsedBy;
      cli.print({
        json: r,
        reveal: true,
        human: () =>
          [
            createdText(r),
            `the previous key (…${r.previous.hint}) works until ${r.previous.expiresAt ?? 'revoked'}`,
            users.length ? `still used by: ${users.map((a) => `${a.address} (last ${a.lastUsedAt})`).join(', ')}` : 'no recorded use of the previous key',
          ].join('\n') + envText(r.envFiles),
      });
    });

  key
    .command('usage')
    .description('requests, prompts and execution seconds per key, with last use and address')
    .option('--since <when>', 'only usage at or after this date (or this long ago: 7d)')
    .action(async (o: { since?: string }) => {
      const since = o.since ? new Date(/^[\d.]+\s*(ms|s|m|h|d|w)$/.test(o.since) ? Date.now() - parseDuration(o.since, '--since') : parseExpiry(o.since)) : undefined;
      const keys = await clientUsage(await stateDir(), since ? { since } : {});
      cli.print({
        json: { keys },
        human: () =>
          keys.length
            ? keys.map((u) => `${u.name.padEnd(20)} ${String(u.requests).padStart(8)} requests ${String(u.prompts).padStart(6)} prompts ${u.executionSeconds.toFixed(1).padStart(9)} s  ${u.lastUsedAt ? `last ${u.lastUsedAt} from ${u.lastAddress ?? '?'}` : 'never used'}`).join('\n')
            : 'no keys yet',
      });
    });
}
