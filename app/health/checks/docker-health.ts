import { fail, ok, unknown, warn, type HealthCheck } from '../check.js';
import { fixFor } from '../troubleshoot.js';

/** Docker's own healthcheck of the container (counts 401 as up: the API needs a token). */
export const dockerHealthCheck: HealthCheck = {
  id: 'docker-health',
  title: 'Container healthcheck',
  async run(ctx) {
    const why = await ctx.containerUnavailable();
    if (why) return unknown(`cannot read the healthcheck: ${why}`);
    const s = await ctx.containerStatus();
    switch (s.health) {
      case 'healthy':
        return ok('Docker reports the container healthy');
      case 'starting':
        return warn('the healthcheck has not passed yet (the container is starting)');
      case 'unhealthy':
        return fail('Docker reports the container unhealthy: ComfyUI inside does not answer its healthcheck', fixFor('container-unhealthy'));
      case 'none':
      case undefined:
        return warn('the container has no Docker healthcheck, so Docker cannot tell a hung server', {
          text: 'Recreate the container from the panel configuration, which adds the healthcheck.',
        });
    }
  },
};
