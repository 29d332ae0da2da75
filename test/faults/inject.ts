/**
 * Fault injection into the rotation's dependencies: every call to a wrapped location,
 * server or vault method gets a number (1, 2, ...) in call order, so "fail at step k"
 * means "the k-th dependency call fails", whatever operation it belongs to.
 */
import type { ProbeResult } from '../../app/comfy/client.js';
import type { CredentialLocation } from '../../app/tokens/locations.js';
import type { ComfyServerControl } from '../../app/tokens/rotation.js';
import { Vault } from '../../app/tokens/vault.js';

/** Before the real call (it never happens) or after it (it happened, the caller sees an error). */
export type FaultPhase = 'before' | 'after';

export interface FaultPlan {
  /** Call numbers that fail. */
  at: number[];
  phase: FaultPhase;
  /** Once a method failed, every later call of the same method fails too (a dead engine, a full disk). */
  persist: boolean;
}

/** Called around every numbered call; the child process SIGKILLs itself from here, a disk fills up from here. */
export type CallHook = (n: number, label: string, phase: FaultPhase) => void | Promise<void>;

export class Faults {
  readonly trace: string[] = [];
  readonly fired: string[] = [];
  private readonly dead = new Set<string>();

  constructor(
    private readonly plan: FaultPlan = { at: [], phase: 'before', persist: false },
    private readonly hook?: CallHook,
  ) {}

  /** Runs fn as call number n; `injected` is what a failing call yields instead of throwing (a bad HTTP answer). */
  async call<T>(label: string, fn: () => Promise<T>, injected?: () => T): Promise<T> {
    const n = this.trace.push(label);
    const hit = this.plan.at.includes(n) || this.dead.has(label);
    const fail = (): T => {
      this.fired.push(`${n}:${label}:${this.plan.phase}`);
      if (this.plan.persist) this.dead.add(label);
      if (injected && n % 2 === 0) return injected();
      throw new Error(`injected fault at call ${n} (${label}, ${this.plan.phase})`);
    };
    await this.hook?.(n, label, 'before');
    if (hit && this.plan.phase === 'before') return fail();
    const value = await fn();
    await this.hook?.(n, label, 'after');
    if (hit) return fail();
    return value;
  }
}

export function faultyLocation(loc: CredentialLocation, f: Faults): CredentialLocation {
  return {
    name: loc.name,
    path: loc.path,
    read: () => f.call(`${loc.name}.read`, () => loc.read()),
    snapshot: () => f.call(`${loc.name}.snapshot`, () => loc.snapshot()),
    write: (cred) => f.call(`${loc.name}.write`, () => loc.write(cred)),
    restore: (snap) => f.call(`${loc.name}.restore`, () => loc.restore(snap)),
  };
}

const BAD_ANSWER = (): ProbeResult => ({ status: 500, latencyMs: 0, error: 'injected' });

/** A failing probe alternates between throwing and answering 500, so both verify paths are hit. */
export function faultyServer(server: ComfyServerControl, f: Faults): ComfyServerControl {
  return {
    restart: () => f.call('server.restart', () => server.restart()),
    waitHealthy: () => f.call('server.waitHealthy', () => server.waitHealthy()),
    probe: (token) => f.call('server.probe', () => server.probe(token), BAD_ANSWER),
  };
}

/** A second handle on the same vault whose seal (journal, vault file) and write (commit) can fail. */
export function faultyVault(dir: string, f: Faults): Vault {
  const vault = new Vault(dir);
  const seal = vault.seal.bind(vault);
  const write = vault.write.bind(vault);
  vault.seal = (value, purpose) => f.call('vault.seal', () => seal(value, purpose));
  vault.write = (state) => f.call('vault.write', () => write(state));
  return vault;
}
