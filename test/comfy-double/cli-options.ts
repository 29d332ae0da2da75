import { Command, InvalidArgumentError, Option } from 'commander';
import { LOGIN_NODE_VERSIONS, type LoginNodeVersion } from './login-node.js';
import type { ComfyDoubleOptions } from './server.js';

function int(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('expected a whole number >= 0');
  return n;
}

function version(value: string): LoginNodeVersion {
  if (!(LOGIN_NODE_VERSIONS as readonly string[]).includes(value)) throw new InvalidArgumentError(`expected one of: ${LOGIN_NODE_VERSIONS.join(', ')}`);
  return value as LoginNodeVersion;
}

/** Environment variables that select the same modes as the flags (flags win). */
export const MODE_ENV = {
  loginNodeVersion: 'COMFY_DOUBLE_LOGIN_NODE_VERSION',
  loginImportFailed: 'COMFY_DOUBLE_LOGIN_IMPORT_FAILED',
  corsOrigin: 'COMFY_DOUBLE_CORS_ORIGIN',
} as const;

/**
 * The double's command line (npm run comfy-double, and the container's arguments after the
 * image name). Modes, each reproducing a real failure:
 *   --login-node-version pre-token   ComfyUI-Login 7ef55034: <root>/PASSWORD, 302 for tokens
 *   --login-import-failed            the node fails to import: IMPORT FAILED, no auth
 *   --cors-origin ORIGIN             like ComfyUI's --enable-cors-header ORIGIN (also accepted as is)
 */
export function parseDoubleArgs(argv: string[]): Omit<ComfyDoubleOptions, 'log'> {
  const program = new Command('comfy-double')
    .description('A ComfyUI + ComfyUI-Login test double')
    .requiredOption('--dir <path>', 'the ComfyUI root (login/PASSWORD, output/, user/, models/, custom_nodes/)')
    .option('--port <n>', 'port to listen on (0 = random)', int, 8188)
    .option('--host <address>', 'address to listen on', '127.0.0.1')
    .option('--no-login', 'remove and do not load the ComfyUI-Login node (no auth)')
    .option('--sampler-ms <n>', 'total KSampler run time in milliseconds', int, 0)
    .addOption(new Option('--login-node-version <version>', `installed ComfyUI-Login: ${LOGIN_NODE_VERSIONS.join(' | ')}`).argParser(version).env(MODE_ENV.loginNodeVersion))
    .addOption(new Option('--login-import-failed', 'the login node fails to import (IMPORT FAILED in the log, no auth)').env(MODE_ENV.loginImportFailed))
    .addOption(new Option('--cors-origin <origin>', "ComfyUI's --enable-cors-header value: tokens are only checked for requests with this Origin").env(MODE_ENV.corsOrigin))
    .addOption(new Option('--enable-cors-header [origin]', 'the same, spelled as ComfyUI spells it (no value: *)').preset('*'))
    .exitOverride((err) => {
      throw err;
    })
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });
  program.parse(argv, { from: 'user' });
  const o = program.opts<{ dir: string; port: number; host: string; login: boolean; samplerMs: number; loginNodeVersion?: LoginNodeVersion; loginImportFailed?: boolean | string; corsOrigin?: string; enableCorsHeader?: string }>();
  // commander sets a boolean env option to true for any value; "0"/"false"/"" mean off here.
  const importFailed = o.loginImportFailed === true && !['0', 'false', ''].includes(process.env[MODE_ENV.loginImportFailed] ?? 'x');
  return {
    dir: o.dir,
    port: o.port,
    host: o.host,
    login: o.login,
    samplerMs: o.samplerMs,
    loginNodeVersion: o.loginNodeVersion,
    loginImportFailed: importFailed || undefined,
    corsOrigin: o.enableCorsHeader ?? o.corsOrigin,
  };
}
