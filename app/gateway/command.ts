/**
 * `gateway run`: the gateway process, configured by flags or the environment (the container
 * sets GATEWAY_*). Shared by the panel's CLI (`comfy-panel gateway run`) and the gateway
 * image's own small entry (app/gateway/bin.ts), so both parse options the same way.
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import { startGateway } from './server.js';

function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('expected a port number (0-65535)');
  return n;
}

export function gatewayRunCommand(name = 'run'): Command {
  return new Command(name)
    .description('run the gateway in the foreground: per-client API keys in front of ComfyUI (+ ComfyUI-Login)')
    .addOption(new Option('--upstream <url>', 'ComfyUI as the gateway reaches it, e.g. http://comfyui:8188').env('GATEWAY_UPSTREAM').makeOptionMandatory())
    .addOption(new Option('--state-dir <dir>', 'keys.json (written by the panel), usage/, session.key').env('GATEWAY_STATE_DIR').makeOptionMandatory())
    .addOption(new Option('--secret-file <file>', "ComfyUI-Login's PASSWORD-format file (line 1: the hash); omit when ComfyUI has no login node").env('GATEWAY_SECRET_FILE'))
    .addOption(new Option('--host <address>', 'address to listen on').env('GATEWAY_HOST').default('127.0.0.1'))
    .addOption(new Option('--port <n>', 'port to listen on (0 = random)').env('GATEWAY_PORT').default(8189).argParser(port))
    .addOption(new Option('--trust-proxy', 'take client addresses from X-Forwarded-For').env('GATEWAY_TRUST_PROXY'))
    .addOption(new Option('--secure-cookies', 'mark the session cookie Secure (clients use https)').env('GATEWAY_SECURE_COOKIES'))
    .action(async (opts: { upstream: string; stateDir: string; secretFile?: string; host: string; port: number; trustProxy?: boolean; secureCookies?: boolean }) => {
      let upstream: URL;
      try {
        upstream = new URL(opts.upstream);
      } catch {
        throw new InvalidArgumentError(`--upstream "${opts.upstream}" is not a URL`);
      }
      const gateway = await startGateway({ ...opts, upstream: upstream.href, trustProxy: Boolean(opts.trustProxy), secureCookies: Boolean(opts.secureCookies) });
      await new Promise<void>((resolve) => {
        const stop = () => void gateway.close().then(resolve);
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
    });
}
