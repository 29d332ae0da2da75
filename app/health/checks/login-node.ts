import type { LoginNodeProblem, LoginNodeReport } from '../../contract/ops/container.js';
import { fail, ok, unknown, warn, type HealthCheck } from '../check.js';
import { fixFor, type FailureClass } from '../troubleshoot.js';

const FACTS = ['installed', 'loaded', 'enforced'] as const satisfies readonly (keyof LoginNodeReport)[];
const CLASS_OF: Record<(typeof FACTS)[number], FailureClass> = {
  installed: 'login-node-not-installed',
  loaded: 'login-node-not-loaded',
  enforced: 'login-node-not-enforced',
};

/** A known cause has its own explanation and fix; "open" is the generic not-enforced one. */
export const CLASS_OF_PROBLEM: Record<LoginNodeProblem, FailureClass> = {
  open: 'login-node-not-enforced',
  'no-password': 'login-node-no-password',
  'no-token-support': 'login-node-no-token-support',
  'cors-origin': 'login-node-cors-origin',
  'import-failed': 'login-node-import-failed',
};

/** ComfyUI-Login is installed, loaded and enforcing: its absence was the original outage. */
export const loginNodeCheck: HealthCheck = {
  id: 'login-node',
  title: 'ComfyUI-Login',
  async run(ctx) {
    const why = await ctx.containerUnavailable();
    if (why) return unknown(`cannot verify ComfyUI-Login: ${why}`);
    const report = await ctx.loginNode();
    const falseFacts = FACTS.filter((f) => report[f].value === false);
    const first = falseFacts[0];
    if (first) {
      const message = `ComfyUI-Login is not ${falseFacts.join(', not ')}: ${report[first].detail}`;
      // The first false fact is the cause (no node, then a failed import, then how it fails to enforce); a known cause has its own fix.
      const problem = report[first].problem;
      const fix = fixFor(problem ? CLASS_OF_PROBLEM[problem] : CLASS_OF[first]);
      // Without authRequired the operator chose an open server: say so, but do not go red.
      return ctx.config.container.authRequired ? fail(message, fix) : warn(message, fix);
    }
    const undetermined = FACTS.filter((f) => report[f].value === null);
    if (undetermined.length) return unknown(`could not tell whether ComfyUI-Login is ${undetermined.map((f) => `${f} (${report[f].detail})`).join(', ')}`);
    return ok('ComfyUI-Login is installed, loaded and enforced: anonymous requests and an empty token get 401, tokens are checked without an Origin');
  },
};
