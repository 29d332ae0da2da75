import { unknown, fail, type Verdict } from '../check.js';
import type { SweepContext } from '../sweep-context.js';
import { fixFor } from '../troubleshoot.js';

/**
 * ComfyUI did not answer. When the container is known to be down (or still starting) the
 * container checks own the red and this one says unknown; otherwise the server itself is
 * the problem.
 */
export async function serverDown(ctx: SweepContext, error: string | undefined): Promise<Verdict> {
  const why = await ctx.containerUnavailable();
  if (why) return unknown(`ComfyUI is not reachable: ${why}`);
  const starting = await ctx.containerStatus().then((s) => s.phase === 'starting', () => false);
  if (starting) return unknown('ComfyUI is still starting');
  return fail(`ComfyUI at ${ctx.config.comfyui.url} does not answer: ${error ?? 'no answer'}`, fixFor('comfy-unreachable'));
}

/** The server answered, but not with what ComfyUI + ComfyUI-Login answer to this request. */
export function unexpectedStatus(what: string, status: number, expected: number, error: string | undefined): Verdict {
  return fail(`${what} got HTTP ${status}, expected ${expected}${error ? `: ${error}` : ''}`, fixFor('comfy-unreachable', {
    text: 'Check that comfyui.url points at the ComfyUI server itself, not a proxy or another service.',
  }));
}
