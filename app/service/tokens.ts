import type { PanelHandlers } from '../contract/index.js';
import { actorName } from '../tokens/audit-log.js';
import { tokenActions } from '../tokens/actions.js';
import type { PanelContext } from './context.js';

export function tokensHandlers(ctx: PanelContext) {
  const actions = () =>
    tokenActions(ctx.loaded.config, ctx.paths, {
      actor: actorName('ui'),
      configFile: ctx.loaded.path,
      onStep: (step) => ctx.bus.emit('rotationStep', step),
    });
  return {
    tokenAudit: async () => actions().audit(),
    tokenRotate: async () => actions().rotate(),
    tokenInit: async ({ force }) => actions().init(force),
    tokenImport: async (input) => (input.from === 'container' ? actions().importFromContainer() : actions().importFromEnv(input.file, input.key, input.dialect)),
    tokenUnify: async ({ to }) => actions().unify(to),
    tokenRecover: async () => actions().recover(),
    // The one operation whose result is a secret: the UI calls it only on an explicit user action.
    tokenClientEnv: async ({ dialect }) => actions().clientEnv(dialect),
  } satisfies Partial<PanelHandlers>;
}
