import type { PanelHandlers } from '../contract/index.js';
import { errorMessage } from '../errors.js';
import { redact } from '../redact.js';
import { actorName, readAuditLog } from '../tokens/audit-log.js';
import { tokenActions } from '../tokens/actions.js';
import type { PanelContext } from './context.js';

export function tokensHandlers(ctx: PanelContext) {
  const actions = () =>
    tokenActions(ctx.loaded.config, ctx.paths, {
      actor: actorName('ui'),
      configFile: ctx.loaded.path,
      keys: ctx.vaultKeys,
      onStep: (step) => ctx.bus.emit('rotationStep', step),
    });
  // A rotation interrupted by a crash is settled when the panel starts: back to the old
  // credential, or forward if it was verified before the vault commit. Steps go out as events.
  actions()
    .recoverIfPending()
    .catch((e: unknown) => ctx.bus.emit('rotationStep', { rotationId: 'recovery', step: 'recover', status: 'failed', message: redact(errorMessage(e)) }));
  return {
    tokenAudit: async () => actions().audit(),
    tokenRotate: async ({ username }) => actions().rotate(username),
    tokenInit: async ({ force }) => actions().init(force),
    tokenImport: async (input) => (input.from === 'container' ? actions().importFromContainer() : actions().importFromEnv(input.file, input.key, input.dialect)),
    tokenUnify: async ({ to }) => actions().unify(to),
    tokenRecover: async () => actions().recover(),
    tokenHistory: async ({ limit }) => ({ entries: await readAuditLog(actions().vault.dir, limit) }),
    // The one operation whose result is a secret: the UI calls it only on an explicit user action.
    tokenClientEnv: async ({ dialect }) => actions().clientEnv(dialect),
  } satisfies Partial<PanelHandlers>;
}
