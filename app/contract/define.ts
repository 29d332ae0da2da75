import type { z } from 'zod';

/** One operation of the contract: its input schema, and its result type carried as a phantom. */
export interface OpDef<I extends z.ZodType = z.ZodType, R = unknown> {
  readonly input: I;
  readonly summary: string;
  /** Never set at run time; only carries the result type. */
  readonly __result?: R;
}

/** `op<Result>()(summary, inputSchema)`: the result type is given explicitly, the input inferred. */
export function op<R>() {
  return <I extends z.ZodType>(summary: string, input: I): OpDef<I, R> => ({ summary, input });
}

export type InputOf<D> = D extends OpDef<infer I, unknown> ? z.input<I> : never;
export type ParsedInputOf<D> = D extends OpDef<infer I, unknown> ? z.output<I> : never;
export type ResultOf<D> = D extends OpDef<z.ZodType, infer R> ? R : never;
