import { classifyDockerError } from '../../docker/problems.js';
import { exitCodeText } from '../../docker/state.js';
import { fail, ok, unknown, type HealthCheck } from '../check.js';
import { fixFor } from '../troubleshoot.js';

/** The configured container exists and runs. */
export const containerCheck: HealthCheck = {
  id: 'container',
  title: 'Container running',
  async run(ctx) {
    if (!(await ctx.ping()).ok) return unknown('the Docker engine is not reachable (see the docker check)');
    const name = ctx.config.container.name;
    let s;
    try {
      s = await ctx.containerStatus();
    } catch (e) {
      const problem = classifyDockerError(e);
      return fail(problem.message, fixFor(problem.kind, { text: problem.fix }));
    }
    // An engine that could not be asked says nothing about the container: never "absent".
    if (s.phase === 'unknown' || s.exists === null) return unknown(`the engine did not say what state container ${name} is in`);
    if (!s.exists) return fail(`container ${name} does not exist`, fixFor('no-such-container'));
    // A start that failed (port taken, no NVIDIA runtime) leaves the container created or stopped with Docker's reason.
    if (s.startError && (s.phase === 'created' || s.phase === 'stopped')) {
      const problem = classifyDockerError(new Error(s.startError));
      return fail(`container ${name} could not start: ${problem.message}`, fixFor(problem.kind, { text: problem.fix }));
    }
    switch (s.phase) {
      case 'created':
        return fail(`container ${name} was created but never started`, fixFor('container-stopped'));
      case 'stopped': {
        // A stop's exit code (143: SIGTERM through tini) is said as such, so nobody reads it as a crash.
        const how = s.exitCode ? ` (${exitCodeText(s.exitCode)})` : '';
        return fail(`container ${name} is stopped${how}${s.finishedAt ? ` since ${s.finishedAt}` : ''}`, fixFor('container-stopped'));
      }
      case 'crashed': {
        const why = s.oomKilled ? 'killed for lack of memory' : s.exitCode !== undefined ? exitCodeText(s.exitCode) : 'exit code ?';
        return fail(`container ${name} crashed (${why}${s.restartCount ? `, ${s.restartCount} restarts` : ''})`, fixFor('container-crashed'));
      }
      case 'absent': // ruled out above (!s.exists); named so a new phase cannot fall into "running"
        return fail(`container ${name} does not exist`, fixFor('no-such-container'));
      case 'starting':
      case 'healthy':
      case 'unhealthy':
        return ok(`container ${name} is running${s.startedAt ? ` since ${s.startedAt}` : ''}`);
    }
  },
};
