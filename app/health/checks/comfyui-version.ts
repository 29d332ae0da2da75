import { isComfyError } from '../../comfy/errors.js';
import { errorMessage } from '../../errors.js';
import { fail, ok, unknown, warn, type HealthCheck } from '../check.js';
import { fixFor } from '../troubleshoot.js';
import { serverDown } from './server-down.js';

/** ComfyUI's version from GET /system_stats (with the vault token). */
export const comfyuiVersionCheck: HealthCheck = {
  id: 'comfyui-version',
  title: 'ComfyUI version',
  async run(ctx) {
    try {
      const stats = await ctx.systemStats();
      const v = stats.system.comfyui_version;
      const py = stats.system.python_version?.split(' ')[0];
      if (!v) return warn('ComfyUI does not report its version (an old build?)', { text: 'Update ComfyUI in the image to a release that reports comfyui_version.' });
      return ok(`ComfyUI ${v}${py ? `, Python ${py}` : ''}${stats.system.pytorch_version ? `, PyTorch ${stats.system.pytorch_version}` : ''}`);
    } catch (e) {
      if (isComfyError(e, 'unreachable') || isComfyError(e, 'timeout')) return serverDown(ctx, e.message);
      if (isComfyError(e, 'unauthorized')) return unknown('/system_stats refused the vault token (see auth-accepts-token)');
      return fail(errorMessage(e).split('\n')[0] ?? 'GET /system_stats failed', fixFor('comfy-unreachable', { text: 'Check that comfyui.url points at the ComfyUI server itself.' }));
    }
  },
};
