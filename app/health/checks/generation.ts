import { ago } from '../../ago.js';
import { fingerprint } from '../../redact.js';
import { fail, ok, unknown, warn, type HealthCheck } from '../check.js';
import { fixFor, type FailureClass } from '../troubleshoot.js';

const CLASS_OF_ERROR: Record<string, FailureClass> = {
  preflight: 'models-missing',
  unauthorized: 'token-rejected',
  unreachable: 'comfy-unreachable',
  timeout: 'comfy-unreachable',
};

/** The last smoke generation's outcome and time (from the run history). */
export const generationCheck: HealthCheck = {
  id: 'generation',
  title: 'Last smoke generation',
  async run(ctx) {
    const last = (await ctx.recentRuns()).find((r) => r.workflow === 'smoke');
    const runSmoke = { input: { workflow: 'smoke' } };
    if (!last) return unknown('no smoke generation has run yet', fixFor('generation-never-run', runSmoke));
    const when = `${ago(last.time, Date.now())} (${last.time})`;
    if (last.ok) return ok(`the last smoke run ${when} succeeded in ${last.timings.totalMs} ms`);
    const cls = CLASS_OF_ERROR[last.errorKind ?? ''] ?? 'generation-failed';
    const message = `the last smoke run ${when} failed: ${(last.error ?? 'no error recorded').split('\n')[0]}`;
    if (cls === 'generation-failed') return fail(message, fixFor(cls, runSmoke));
    if (cls !== 'token-rejected') return fail(message, fixFor(cls));
    // A refused token says something about the vault only if the run sent the vault's token and the server still refuses it.
    if (last.tokenSource === 'override') {
      return warn(`${message} (the run sent a token given for it, COMFYUI_TOKEN, not the vault's)`, fixFor('generation-token-override', runSmoke));
    }
    const cred = await ctx.credential();
    if (cred && (await ctx.probe(cred.hash)).status === 200) {
      return warn(`${message}; the vault token ${fingerprint(cred.hash)} is accepted now, so that run sent another token or ran before the last token change`, fixFor('generation-failed', runSmoke));
    }
    return fail(message, fixFor(cls, cred ? { input: { to: fingerprint(cred.hash) } } : {}));
  },
};
