import type { InputSpec, NodeRegistry } from './nodes.js';
import { pyBool, PyFloat, pyRepr, pyStr, pyTypeName, type PyValue } from './pyjson.js';

export type Graph = Record<string, { class_type?: unknown; inputs?: Record<string, unknown> }>;

export interface ErrorInfo {
  type: string;
  message: string;
  details: string;
  extra_info: Record<string, unknown>;
}

export interface NodeError {
  errors: ErrorInfo[];
  dependent_outputs: string[];
  class_type: string;
}

export type Validation =
  | { ok: true; outputs: string[]; nodeErrors: Record<string, NodeError> }
  | { ok: false; error: ErrorInfo; nodeErrors: Record<string, NodeError> };

/** Where ComfyUI's execution.py raises, for tracebacks: the frames a real traceback would show. */
const FRAMES = {
  validatePrompt: ['validate_prompt', 'm = await validate_inputs(prompt_id, prompt, o, validated)', '        ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^'],
  inner: ['validate_inputs', 'r = await validate_inputs(prompt_id, prompt, o_id, validated)', '        ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^'],
  linkedNode: ['validate_inputs', "o_class_type = prompt[o_id]['class_type']", '                   ~~~~~~^^^^^^'],
  returnType: ['validate_inputs', 'received_type = r[val[1]]', '                    ~^^^^^^^^'],
  inputs: ['validate_inputs', "inputs = prompt[unique_id]['inputs']", '             ~~~~~~~~~~~~~~~~~^^^^^^^^^^'],
} as const;
const LINES: Record<keyof typeof FRAMES, number> = { validatePrompt: 2096, inner: 1888, linkedNode: 1868, returnType: 1870, inputs: 1843 };

/** A Python exception raised while validating: type, str(ex), and the frames from the raise up to where it was caught. */
export class PyException extends Error {
  constructor(
    readonly pyType: string,
    readonly text: string,
    readonly frames: (keyof typeof FRAMES)[],
  ) {
    super(text);
  }
}

/** An exception escaping validate_prompt itself: aiohttp answers 500. */
export class ValidationCrash extends Error {}

function formatTb(root: string, frames: (keyof typeof FRAMES)[]): string[] {
  return frames.map((f) => {
    const [fn, code, marks] = FRAMES[f];
    return `  File "${root}/execution.py", line ${LINES[f]}, in ${fn}\n    ${code}\n${marks}\n`;
  });
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof PyFloat);
const isNumeric = (v: unknown): v is number | bigint | PyFloat | boolean => typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean' || v instanceof PyFloat;

/** Python's == between JSON values (1 == 1.0 == True). */
function pyEq(a: unknown, b: unknown): boolean {
  if (isNumeric(a) && isNumeric(b)) return Number(a) === Number(b);
  if (typeof a === 'string' || typeof b === 'string' || a === null || b === null) return a === b;
  return JSON.stringify(a) === JSON.stringify(b);
}

/** prompt[key] on a dict of string keys: KeyError for a missing or non-string key, TypeError for unhashable ones. */
function lookup(prompt: Graph, key: unknown, frame: keyof typeof FRAMES): Graph[string] {
  if (Array.isArray(key) || isObject(key)) throw new PyException('TypeError', `unhashable type: '${pyTypeName(key)}'`, [frame]);
  if (typeof key !== 'string' || !Object.hasOwn(prompt, key)) throw new PyException('KeyError', pyRepr(key), [frame]);
  return prompt[key]!;
}

/** tuple[index]: ints (negative too) and bools index, anything else raises as in Python. */
function tupleIndex(r: string[], index: unknown): string {
  if (typeof index === 'bigint') throw new PyException('IndexError', "cannot fit 'int' into an index-sized integer", ['returnType']);
  if (typeof index !== 'number' && typeof index !== 'boolean') throw new PyException('TypeError', `tuple indices must be integers or slices, not ${pyTypeName(index)}`, ['returnType']);
  const i = Number(index);
  const hit = r[i < 0 ? r.length + i : i];
  if (hit === undefined) throw new PyException('IndexError', 'tuple index out of range', ['returnType']);
  return hit;
}

/** comfy_execution.validation.validate_node_input: equal, or comma-separated type sets that overlap. */
function validateNodeInput(received: unknown, inputType: unknown): boolean {
  if (pyEq(received, inputType)) return true;
  if (typeof received !== 'string' || typeof inputType !== 'string') return false;
  const a = new Set(received.split(',').map((t) => t.trim()));
  return inputType.split(',').some((t) => a.has(t.trim()));
}

const PY_INT = /^\s*[+-]?\d+(_\d+)*\s*$/;
const PY_FLOAT = /^\s*[+-]?((\d+(_\d+)*)?\.?\d+(_\d+)*([eE][+-]?\d+)?|(\d+(_\d+)*)\.|inf(inity)?|nan)\s*$/i;

/** int(), float(), str(), bool() of a widget value, raising what Python raises. */
function convert(inputType: string, val: unknown): unknown {
  if (inputType === 'INT') {
    if (typeof val === 'number' || typeof val === 'bigint') return val;
    if (typeof val === 'boolean') return val ? 1 : 0;
    if (val instanceof PyFloat) {
      if (Number.isNaN(val.value)) throw new PyException('ValueError', 'cannot convert float NaN to integer', []);
      if (!Number.isFinite(val.value)) throw new PyException('OverflowError', 'cannot convert float infinity to integer', []);
      const t = Math.trunc(val.value);
      return Number.isSafeInteger(t) ? t : BigInt(t);
    }
    if (typeof val === 'string') {
      if (!PY_INT.test(val)) throw new PyException('ValueError', `invalid literal for int() with base 10: ${pyRepr(val)}`, []);
      const n = BigInt(val.trim().replace(/_/g, ''));
      return n >= BigInt(Number.MIN_SAFE_INTEGER) && n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : n;
    }
    throw new PyException('TypeError', `int() argument must be a string, a bytes-like object or a real number, not '${pyTypeName(val)}'`, []);
  }
  if (inputType === 'FLOAT') {
    if (val instanceof PyFloat) return val;
    if (typeof val === 'number' || typeof val === 'bigint' || typeof val === 'boolean') return new PyFloat(Number(val));
    if (typeof val === 'string') {
      if (!PY_FLOAT.test(val)) throw new PyException('ValueError', `could not convert string to float: ${pyRepr(val)}`, []);
      const t = val.trim().replace(/_/g, '').toLowerCase();
      return new PyFloat(t.endsWith('inf') || t.endsWith('infinity') ? (t.startsWith('-') ? -Infinity : Infinity) : t.endsWith('nan') ? NaN : Number(t));
    }
    throw new PyException('TypeError', `float() argument must be a string or a real number, not '${pyTypeName(val)}'`, []);
  }
  if (inputType === 'STRING') return pyStr(val);
  if (inputType === 'BOOLEAN') return pyBool(val);
  return val;
}

type Result = [boolean, ErrorInfo[], string];

/** inputs[x] on whatever a client sent as a node's inputs (a dict, normally). */
function getItem(container: unknown, key: string): unknown {
  if (isObject(container)) return container[key];
  throw new PyException('TypeError', `${pyTypeName(container)} indices must be integers${typeof container === 'string' ? '' : ' or slices'}, not 'str'`, []);
}

/** A number for comparisons, exact for big ints. */
const num = (v: number | bigint | PyFloat | boolean): number | bigint => (typeof v === 'bigint' ? v : Number(v));

/** `x in container` for whatever a client sent as a node's inputs. */
function pyIn(key: string, container: unknown): boolean {
  if (isObject(container)) return Object.hasOwn(container, key);
  if (typeof container === 'string') return container.includes(key);
  if (Array.isArray(container)) return container.includes(key);
  throw new PyException('TypeError', `argument of type '${pyTypeName(container)}' is not iterable`, []);
}

/**
 * ComfyUI 0.3.64's validate_inputs, control flow and all: a link to a node that is not in the
 * prompt raises (KeyError) out of the node that holds it, an upstream failure makes the node
 * invalid without reasons of its own, and widget values are converted in place (as Python does),
 * so the queued prompt holds 64, not "64".
 */
class Validator {
  readonly validated = new Map<string, Result>();

  constructor(
    readonly root: string,
    readonly prompt: Graph,
    readonly nodes: NodeRegistry,
  ) {}

  validateInputs(id: string): Result {
    const seen = this.validated.get(id);
    if (seen) return seen;
    const node = this.prompt[id]!;
    if (!pyIn('inputs', node)) throw new PyException('KeyError', "'inputs'", ['inputs']);
    const inputs = node.inputs as Record<string, unknown>;
    const classType = node.class_type as string;
    const declared = this.nodes.info(classType).input;
    const errors: ErrorInfo[] = [];
    let valid = true;
    const entries: [string, InputSpec, 'required' | 'optional'][] = [
      ...Object.entries(declared.required ?? {}).map(([k, s]) => [k, s, 'required'] as [string, InputSpec, 'required']),
      ...Object.entries(declared.optional ?? {}).map(([k, s]) => [k, s, 'optional'] as [string, InputSpec, 'optional']),
    ];
    for (const [x, spec, category] of entries) {
      const inputType = spec[0];
      const extra = spec[1] ?? {};
      const info = [inputType, extra];
      if (!pyIn(x, inputs)) {
        if (category === 'required') errors.push({ type: 'required_input_missing', message: 'Required input is missing', details: x, extra_info: { input_name: x } });
        continue;
      }
      let val = getItem(inputs, x);
      if (Array.isArray(val)) {
        if (val.length !== 2) {
          errors.push({ type: 'bad_linked_input', message: 'Bad linked input, must be a length-2 list of [node_id, slot_index]', details: x, extra_info: { input_name: x, input_config: info, received_value: val } });
          continue;
        }
        const oId = val[0] as unknown;
        const source = lookup(this.prompt, oId, 'linkedNode');
        const receivedType = tupleIndex(this.nodes.returnTypes(source.class_type as string), val[1]);
        if (!validateNodeInput(receivedType, inputType)) {
          errors.push({
            type: 'return_type_mismatch',
            message: 'Return type mismatch between linked nodes',
            details: `${x}, received_type(${receivedType}) mismatch input_type(${pyStr(inputType)})`,
            extra_info: { input_name: x, input_config: info, received_type: receivedType, linked_node: val },
          });
          continue;
        }
        try {
          if (!this.validateInputs(oId as string)[0]) valid = false;
        } catch (e) {
          if (!(e instanceof PyException)) throw e;
          valid = false;
          const frames = ['inner' as const, ...e.frames];
          this.validated.set(oId as string, [
            false,
            [
              {
                type: 'exception_during_inner_validation',
                message: 'Exception when validating inner node',
                details: e.text,
                extra_info: { input_name: x, input_config: info, exception_message: e.text, exception_type: e.pyType, traceback: formatTb(this.root, frames), linked_node: val },
              },
            ],
            oId as string,
          ]);
        }
        continue;
      }
      try {
        if (isObject(val) && '__value__' in val) {
          val = val.__value__;
          inputs[x] = val;
        }
        if (typeof inputType === 'string') {
          val = convert(inputType, val);
          inputs[x] = val;
        }
      } catch (e) {
        if (!(e instanceof PyException)) throw e;
        errors.push({
          type: 'invalid_input_type',
          message: `Failed to convert an input value to a ${pyStr(inputType)} value`,
          details: `${x}, ${pyStr(val)}, ${e.text}`,
          extra_info: { input_name: x, input_config: info, received_value: val, exception_message: e.text },
        });
        continue;
      }
      const min = extra.min as number | PyFloat | undefined;
      const max = extra.max as number | bigint | PyFloat | undefined;
      if (min !== undefined && isNumeric(val) && num(val) < num(min)) {
        errors.push({ type: 'value_smaller_than_min', message: `Value ${pyStr(val)} smaller than min of ${pyStr(min)}`, details: x, extra_info: { input_name: x, input_config: info, received_value: val } });
        continue;
      }
      if (max !== undefined && isNumeric(val) && num(val) > num(max)) {
        errors.push({ type: 'value_bigger_than_max', message: `Value ${pyStr(val)} bigger than max of ${pyStr(max)}`, details: x, extra_info: { input_name: x, input_config: info, received_value: val } });
        continue;
      }
      if (Array.isArray(inputType) && !inputType.some((o) => pyEq(o, val))) {
        // ComfyUI does not echo gigantic lists (e.g. many scanned model files).
        const long = inputType.length > 20;
        errors.push({
          type: 'value_not_in_list',
          message: 'Value not in list',
          details: `${x}: '${pyStr(val)}' not in ${long ? `(list of length ${inputType.length})` : pyRepr(inputType)}`,
          extra_info: { input_name: x, input_config: long ? null : info, received_value: val },
        });
      }
    }
    const ret: Result = errors.length > 0 || !valid ? [false, errors, id] : [true, [], id];
    this.validated.set(id, ret);
    return ret;
  }
}

/** The `in` and `[]` of validate_prompt's first loop over a prompt that may not be a dict at all. */
function nodesOf(prompt: unknown): [string, unknown][] {
  if (isObject(prompt)) return Object.entries(prompt);
  if (prompt === '' || (Array.isArray(prompt) && prompt.length === 0)) return [];
  throw new ValidationCrash(`TypeError: prompt of type '${pyTypeName(prompt)}' cannot be validated`);
}

/** ComfyUI's validate_prompt: class checks, output nodes, then each output's inputs. */
export function validatePrompt(root: string, nodes: NodeRegistry, prompt: unknown, log: (line: string) => void): Validation {
  const outputs: string[] = [];
  for (const [id, node] of nodesOf(prompt)) {
    let hasClass: boolean;
    try {
      hasClass = pyIn('class_type', node);
    } catch (e) {
      throw new ValidationCrash(String((e as Error).message));
    }
    if (hasClass && !isObject(node)) throw new ValidationCrash(`TypeError: ${pyTypeName(node)} indices must be integers, not 'str'`);
    if (!hasClass) {
      return { ok: false, error: { type: 'invalid_prompt', message: 'Cannot execute because a node is missing the class_type property.', details: `Node ID '#${id}'`, extra_info: {} }, nodeErrors: {} };
    }
    const classType = (node as Record<string, PyValue>).class_type;
    if (Array.isArray(classType) || isObject(classType)) throw new ValidationCrash(`TypeError: unhashable type: '${pyTypeName(classType)}'`);
    if (!nodes.has(classType)) {
      return { ok: false, error: { type: 'invalid_prompt', message: `Cannot execute because node ${pyStr(classType)} does not exist.`, details: `Node ID '#${id}'`, extra_info: {} }, nodeErrors: {} };
    }
    if (nodes.isOutput(classType)) outputs.push(id);
  }
  if (outputs.length === 0) return { ok: false, error: { type: 'prompt_no_outputs', message: 'Prompt has no outputs', details: '', extra_info: {} }, nodeErrors: {} };

  const graph = prompt as Graph;
  const v = new Validator(root, graph, nodes);
  const good: string[] = [];
  const failed: [string, ErrorInfo[]][] = [];
  const nodeErrors: Record<string, NodeError> = {};
  for (const o of outputs) {
    let valid: boolean;
    let reasons: ErrorInfo[];
    try {
      [valid, reasons] = v.validateInputs(o);
    } catch (e) {
      if (!(e instanceof PyException)) throw e;
      valid = false;
      reasons = [{ type: 'exception_during_validation', message: 'Exception when validating node', details: e.text, extra_info: { exception_type: e.pyType, traceback: formatTb(root, ['validatePrompt', ...e.frames]) } }];
      v.validated.set(o, [false, reasons, o]);
    }
    if (valid) {
      good.push(o);
      continue;
    }
    log(`Failed to validate prompt for output ${o}:`);
    if (reasons.length > 0) {
      log('* (prompt):');
      for (const r of reasons) log(`  - ${r.message}: ${r.details}`);
    }
    failed.push([o, reasons]);
    for (const [id, [ok, errs]] of v.validated) {
      // Nodes downstream of an error are invalid without errors of their own: not reported.
      if (ok || errs.length === 0) continue;
      let entry = nodeErrors[id];
      if (!entry) {
        const classType = String(graph[id]!.class_type);
        entry = nodeErrors[id] = { errors: errs, dependent_outputs: [], class_type: classType };
        log(`* ${classType} ${id}:`);
        for (const r of errs) log(`  - ${r.message}: ${r.details}`);
      }
      entry.dependent_outputs.push(o);
    }
    log('Output will be ignored');
  }
  if (good.length === 0) {
    const details = failed.flatMap(([, errs]) => errs.map((e) => `${e.message}: ${e.details}`)).join('\n');
    return { ok: false, error: { type: 'prompt_outputs_failed_validation', message: 'Prompt outputs failed validation', details, extra_info: {} }, nodeErrors };
  }
  return { ok: true, outputs: good, nodeErrors };
}

/** ComfyUI's is_link: what the executor follows as an edge. */
export function isLink(v: unknown): v is [string, number] {
  return Array.isArray(v) && v.length === 2 && typeof v[0] === 'string' && (typeof v[1] === 'number' || v[1] instanceof PyFloat);
}
