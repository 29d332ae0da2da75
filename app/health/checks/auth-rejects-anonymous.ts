import { fail, ok, type HealthCheck } from '../check.js';
import { fixFor } from '../troubleshoot.js';
import { serverDown, unexpectedStatus } from './server-down.js';

/** A request without a token gets 401: nobody without the token can generate. */
export const authRejectsAnonymousCheck: HealthCheck = {
  id: 'auth-rejects-anonymous',
  title: 'Anonymous requests refused',
  async run(ctx) {
    const r = await ctx.probe(undefined);
    if (r.status === 401) return ok(`a request without token gets 401 (${Math.round(r.latencyMs)} ms)`);
    if (r.status === null) return serverDown(ctx, r.error);
    if (r.status === 200) return fail('ComfyUI answers requests without a token: the API is open to anyone who reaches the port', fixFor('login-node-not-enforced'));
    return unexpectedStatus('a request without token', r.status, 401, r.error);
  },
};
