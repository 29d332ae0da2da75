/**
 * The panel's side of the control channel, one per instance: the gateway's URL and the
 * instance's control key (a `control`-scope key the panel keeps in that instance's vault).
 * Used before a ComfyUI restart: drain, wait until drained, restart, resume.
 */
import { withDeadline } from '../deadline.js';
import { PanelError } from '../errors.js';
import type { GatewayStatus } from './server.js';

export interface GatewayControlOptions {
  /** The gateway as the panel reaches it, e.g. http://127.0.0.1:8189. */
  url: string;
  controlKey: string;
  timeoutMs?: number;
}

export class GatewayControl {
  constructor(private readonly opts: GatewayControlOptions) {}

  private async call(method: 'GET' | 'POST', route: string, body?: unknown): Promise<GatewayStatus> {
    const { res, text } = await withDeadline(this.opts.timeoutMs ?? 10_000, async (signal) => {
      let res: Response;
      try {
        res = await fetch(new URL(`/_gateway/control${route}`, this.opts.url), {
          method,
          headers: { Authorization: `Bearer ${this.opts.controlKey}`, ...(body ? { 'Content-Type': 'application/json' } : {}) },
          body: body ? JSON.stringify(body) : undefined,
          signal,
        });
      } catch (e) {
        throw new PanelError(`gateway at ${this.opts.url} is not reachable (${(e as Error).message})`, 'gateway-unreachable', 'Check that the gateway container runs: comfy-panel gateway status.');
      }
      return { res, text: await res.text() };
    });
    if (res.status === 401) throw new PanelError(`gateway at ${this.opts.url} refused the control key`, 'gateway-control-key', 'The instance\'s control key is missing from the key store; create a new one.');
    if (!res.ok) throw new PanelError(`gateway at ${this.opts.url} answered ${res.status} to ${method} ${route}`, 'gateway-control');
    return JSON.parse(text) as GatewayStatus;
  }

  status(): Promise<GatewayStatus> {
    return this.call('GET', '/status');
  }

  /** New prompts get 503 from now; running and queued ones finish, bounded by `timeoutMs`. */
  drain(timeoutMs: number): Promise<GatewayStatus> {
    return this.call('POST', '/drain', { timeoutMs });
  }

  resume(): Promise<GatewayStatus> {
    return this.call('POST', '/resume');
  }

  /** Polls until the gateway reports drained (or the drain's own timeout made it so). */
  async waitDrained(opts: { pollMs?: number; maxWaitMs?: number } = {}): Promise<GatewayStatus> {
    const until = Date.now() + (opts.maxWaitMs ?? 15 * 60_000);
    for (;;) {
      const s = await this.status();
      if (s.intake.state === 'drained') return s;
      if (s.intake.state === 'serving') throw new PanelError('the gateway is not draining (resumed by someone else?)', 'gateway-not-draining');
      if (Date.now() > until) throw new PanelError(`the gateway did not drain within ${opts.maxWaitMs ?? 900_000} ms`, 'gateway-drain-timeout');
      await new Promise((r) => setTimeout(r, opts.pollMs ?? 250));
    }
  }
}
