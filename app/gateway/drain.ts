/**
 * A ComfyUI restart behind the gateway, without killing a render: drain (new prompts get 503
 * with Retry-After), wait until the running prompt finished (bounded by gateway.drainTimeoutSec),
 * restart, wait healthy, resume. The panel needs a control key for that; it mints one for this
 * restart only (a `control` key, expiring within the hour) and deletes it afterwards, so no raw
 * control key is ever kept anywhere.
 */
import { randomBytes } from 'node:crypto';
import type { ComfyServerControl } from '../tokens/rotation.js';
import { PanelError } from '../errors.js';
import { GatewayControl } from './control-client.js';
import { createKey, deleteKeys } from './keys.js';
import type { StateLocation } from './state.js';

export interface DrainOptions {
  /** The gateway as the panel reaches it. */
  url: string;
  /** The deployment's gateway state (keys.json). */
  stateDir: StateLocation;
  /** How long the running and queued prompts may take before the restart goes ahead anyway. */
  drainTimeoutMs: number;
  /** Progress for the operator (no secrets). */
  onProgress?: (line: string) => void;
}

/** Waits until the gateway accepts the new control key (it reloads keys.json every 250 ms). */
async function accepted(control: GatewayControl, withinMs: number): Promise<boolean> {
  const until = Date.now() + withinMs;
  for (;;) {
    try {
      await control.status();
      return true;
    } catch (e) {
      if (e instanceof PanelError && e.code === 'gateway-unreachable') return false;
      if (Date.now() > until) throw e;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * Wraps a server's restart in a drain through the gateway. An unreachable gateway (stopped:
 * no client gets through anyway) is skipped. Intake always resumes after the wait for healthy,
 * whether it succeeded or not, and after a failed restart: the gateway is never left draining.
 */
export function drainingServer(inner: ComfyServerControl, opts: DrainOptions): ComfyServerControl {
  const say = (line: string) => opts.onProgress?.(line);
  let held: { control: GatewayControl; keyId: string } | undefined;

  const release = async () => {
    const h = held;
    held = undefined;
    if (!h) return;
    try {
      await h.control.resume();
      say('gateway: intake resumed');
    } finally {
      await deleteKeys(opts.stateDir, [h.keyId]).catch(() => undefined);
    }
  };

  const drain = async () => {
    if (held) return; // a rollback's second restart: still drained
    const minted = await createKey(opts.stateDir, { name: `panel-drain-${randomBytes(4).toString('hex')}`, scope: 'control', expiresAt: new Date(Date.now() + 3_600_000) });
    const control = new GatewayControl({ url: opts.url, controlKey: minted.key });
    if (!(await accepted(control, 10_000))) {
      await deleteKeys(opts.stateDir, [minted.id]).catch(() => undefined);
      say(`gateway at ${opts.url} is not reachable: restarting without a drain`);
      return;
    }
    held = { control, keyId: minted.id };
    await control.drain(opts.drainTimeoutMs);
    say('gateway: draining (new prompts get 503 with Retry-After)');
    const s = await control.waitDrained({ maxWaitMs: opts.drainTimeoutMs + 30_000 });
    say(s.intake.timedOut ? `gateway: drain timeout passed with ${s.queue.running + s.queue.pending} prompt(s) left; restarting anyway` : 'gateway: drained, no prompt running');
  };

  return {
    probe: inner.probe,
    restart: async () => {
      try {
        await drain();
        await inner.restart();
      } catch (e) {
        await release().catch(() => undefined);
        throw e;
      }
    },
    waitHealthy: async () => {
      try {
        await inner.waitHealthy();
      } finally {
        await release();
      }
    },
  };
}
