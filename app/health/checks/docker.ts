import { fail, ok, type HealthCheck } from '../check.js';
import { fixFor } from '../troubleshoot.js';

/** The Docker engine answers (version call, with the docker timeout). */
export const dockerCheck: HealthCheck = {
  id: 'docker',
  title: 'Docker engine',
  async run(ctx) {
    const ping = await ctx.ping();
    if (ping.ok) return ok(`Docker ${ping.serverVersion ?? '?'} at ${ping.host} answers`);
    const problem = ping.problem ?? { kind: 'unknown' as const, message: `Docker engine at ${ping.host} does not answer`, fix: fixFor('unknown').text };
    return fail(problem.message, fixFor(problem.kind, { text: problem.fix }));
  },
};
