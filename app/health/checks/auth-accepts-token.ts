import { fingerprint } from '../../redact.js';
import { fail, ok, unknown, type HealthCheck } from '../check.js';
import { fixFor } from '../troubleshoot.js';
import { CLASS_OF_PROBLEM } from './login-node.js';
import { serverDown, unexpectedStatus } from './server-down.js';

/** The vault's token (the bcrypt hash) gets 200: notebooks holding it can generate. */
export const authAcceptsTokenCheck: HealthCheck = {
  id: 'auth-accepts-token',
  title: 'Vault token accepted',
  async run(ctx) {
    const cred = await ctx.credential();
    if (!cred) return unknown('the panel holds no credential yet, so the token cannot be tested', fixFor('no-credential', { input: { from: 'container' } }));
    const fp = fingerprint(cred.hash);
    const r = await ctx.probe(cred.hash);
    if (r.status === 200) return ok(`the vault token ${fp} is accepted (${Math.round(r.latencyMs)} ms)`);
    if (r.status === null) return serverDown(ctx, r.error);
    // A node that ignores tokens (redirect) or checks them only for one Origin refuses a right token: say that, not "wrong token".
    const e = r.status === 401 || (r.status >= 300 && r.status < 400) ? await ctx.enforcement() : undefined;
    if (e?.problem === 'no-token-support' || e?.problem === 'cors-origin') return fail(`ComfyUI refuses the vault token ${fp}: ${e.detail}`, fixFor(CLASS_OF_PROBLEM[e.problem]));
    if (r.status === 401) {
      return fail(
        `ComfyUI refuses the vault token ${fp} with 401: the token is the bcrypt hash on line 1 of login/PASSWORD (not the password), and ComfyUI reads PASSWORD only at start`,
        fixFor('token-rejected', { input: { to: fp } }),
      );
    }
    return unexpectedStatus('the vault token', r.status, 200, r.error);
  },
};
