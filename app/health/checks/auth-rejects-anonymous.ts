import { fail, ok, type HealthCheck } from '../check.js';
import { fixFor } from '../troubleshoot.js';
import { CLASS_OF_PROBLEM } from './login-node.js';
import { serverDown, unexpectedStatus } from './server-down.js';

/**
 * A request without a token gets 401, and so does an empty `?token=` (without a PASSWORD the
 * first visitor sets it); a redirect to /login instead is a node without token support.
 */
export const authRejectsAnonymousCheck: HealthCheck = {
  id: 'auth-rejects-anonymous',
  title: 'Anonymous requests refused',
  async run(ctx) {
    const r = await ctx.probe(undefined);
    if (r.status === null) return serverDown(ctx, r.error);
    if (r.status === 200) return fail('ComfyUI answers requests without a token: the API is open to anyone who reaches the port', fixFor('login-node-not-enforced'));
    if (r.status === 401 || (r.status >= 300 && r.status < 400)) {
      const e = await ctx.enforcement();
      if (e.value === false) return fail(e.detail, fixFor(CLASS_OF_PROBLEM[e.problem ?? 'open']));
      if (e.value === true) return ok(`a request without token gets 401, and so does an empty ?token= (${Math.round(r.latencyMs)} ms)`);
    }
    return unexpectedStatus('a request without token', r.status, 401, r.error);
  },
};
