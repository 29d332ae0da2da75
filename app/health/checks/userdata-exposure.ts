import { ok, unknown, warn, type HealthCheck } from '../check.js';
import { fixFor } from '../troubleshoot.js';
import { serverDown } from './server-down.js';

/**
 * ComfyUI-Login's suffix allowlist lets anonymous requests for user-data .js/.css files through
 * (anyone who reaches the port can write them). Read-only probe of a name that does not exist,
 * so nothing is left behind; a warning, since the node offers no way to close it.
 */
export const userdataExposureCheck: HealthCheck = {
  id: 'userdata-exposure',
  title: 'User data writable without login',
  async run(ctx) {
    const e = await ctx.enforcement();
    // An open or unprotected server is the auth checks' red; this one is about a node that otherwise enforces.
    if (e.value !== true) return unknown(e.value === false ? 'authentication is not enforced at all (see auth-rejects-anonymous)' : `cannot tell: ${e.detail}`);
    const x = await ctx.userdataExposure();
    if (x.exposed === false) return ok(x.detail);
    if (x.exposed === null) return x.detail.includes('did not answer') ? serverDown(ctx, x.detail) : unknown(x.detail);
    return warn(
      `${x.detail}: anyone who reaches ${ctx.config.comfyui.url} can write .js and .css files into ComfyUI's user data, and the front end loads user.css into every browser that opens it`,
      fixFor('userdata-exposed'),
    );
  },
};
