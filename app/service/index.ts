import type { InstanceHandlers } from '../contract/index.js';
import { appHandlers } from './app.js';
import { containerHandlers } from './container.js';
import type { PanelContext } from './context.js';
import { tokensHandlers } from './tokens.js';
import { generateHandlers } from './generate.js';
import { healthHandlers } from './health.js';
import { envHandlers } from './env.js';
import { gatewayHandlers } from './gateway.js';

/** The core's implementation of every operation of one instance (the fleet's own are in fleet-ops.ts). */
export function createPanelHandlers(ctx: PanelContext): InstanceHandlers {
  return {
    ...appHandlers(ctx),
    ...containerHandlers(ctx),
    ...generateHandlers(ctx),
    ...tokensHandlers(ctx),
    ...healthHandlers(ctx),
    ...envHandlers(ctx),
    ...gatewayHandlers(ctx),
  };
}
