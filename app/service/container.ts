import { pingDocker } from '../docker/connection.js';
import type { PanelHandlers } from '../contract/index.js';
import type { PanelContext } from './context.js';

export function containerHandlers(ctx: PanelContext) {
  return {
    dockerPing: async () => pingDocker(ctx.loaded.config),
  } satisfies Partial<PanelHandlers>;
}
