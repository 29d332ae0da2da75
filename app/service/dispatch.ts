import { z } from 'zod';
import { instanceIdPattern, isOpName, operations, type ContractErrorShape, type PanelHandlers } from '../contract/index.js';
import { PanelError } from '../errors.js';
import { redact } from '../redact.js';
import { uiFix } from './ui-fixes.js';

/** An error fit to cross the contract: a code, a message, field issues; no stack, no secret. */
export class ContractError extends Error {
  constructor(readonly shape: ContractErrorShape) {
    super(shape.message);
    this.name = 'ContractError';
  }
}

export function toContractError(err: unknown): ContractErrorShape {
  if (err instanceof ContractError) return err.shape;
  if (err instanceof PanelError) {
    const fix = err.fix ? uiFix(redact(err.fix)) : undefined;
    return {
      code: 'failed',
      message: redact(err.message),
      problem: { code: err.code, ...(fix ? { fix: fix.text } : {}), ...(fix?.action ? { action: fix.action } : {}), ...(fix?.input ? { input: fix.input } : {}) },
    };
  }
  return { code: 'failed', message: redact(err instanceof Error ? err.message : String(err)) };
}

/** The `instance` beside an operation's input (contract InstanceArg), taken off before the input is validated. */
function splitInstance(raw: unknown): { instance?: string; input: unknown } {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw) || !('instance' in raw)) return { input: raw ?? {} };
  const { instance, ...input } = raw as Record<string, unknown>;
  if (instance === undefined) return { input };
  if (typeof instance !== 'string' || !instanceIdPattern.test(instance)) {
    throw new ContractError({ code: 'invalid-input', message: 'instance: not an instance id', issues: [{ path: 'instance', message: 'an instance id: lower-case letters, digits and -' }] });
  }
  return { instance, input };
}

/** Validates the input against the contract's schema, then runs the handler (for the instance the call names). */
export async function dispatch(handlers: Partial<PanelHandlers>, name: unknown, rawInput: unknown): Promise<unknown> {
  if (!isOpName(name) || !handlers[name]) {
    throw new ContractError({ code: 'unknown-operation', message: `unknown operation: ${String(name).slice(0, 60)}` });
  }
  const { instance, input } = splitInstance(rawInput);
  const parsed = operations[name].input.safeParse(input);
  if (!parsed.success) {
    throw new ContractError({
      code: 'invalid-input',
      message: `invalid input for ${name}: ${z.prettifyError(parsed.error).slice(0, 500)}`,
      issues: parsed.error.issues.slice(0, 20).map((i) => ({ path: i.path.join('.'), message: i.message })),
    });
  }
  const handler = handlers[name] as (input: unknown, instance?: string) => Promise<unknown>;
  return handler(parsed.data, instance);
}
