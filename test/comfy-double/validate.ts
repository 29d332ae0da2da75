import { NODE_CLASSES, type InputSpec } from './nodes.js';

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

export function isLink(v: unknown): v is [string, number] {
  return Array.isArray(v) && v.length === 2 && typeof v[0] === 'string' && typeof v[1] === 'number';
}

function checkValue(name: string, spec: InputSpec, val: unknown): ErrorInfo | undefined {
  const [type, info = {}] = spec;
  const extra = { input_name: name, input_config: spec, received_value: val };
  if (Array.isArray(type)) {
    if (type.includes(val as string)) return undefined;
    // ComfyUI does not echo gigantic lists (e.g. many scanned model files).
    const list = type.length > 20 ? `(list of length ${type.length})` : `[${type.map((t) => `'${t}'`).join(', ')}]`;
    return { type: 'value_not_in_list', message: 'Value not in list', details: `${name}: '${String(val)}' not in ${list}`, extra_info: { ...extra, input_config: type.length > 20 ? null : spec } };
  }
  if (type === 'INT' || type === 'FLOAT') {
    const n = Number(val);
    if (typeof val === 'boolean' || val === null || val === '' || Number.isNaN(n) || (type === 'INT' && !Number.isInteger(n))) {
      return { type: 'invalid_input_type', message: `Failed to convert an input value to a ${type} value`, details: `${name}, ${String(val)}, invalid literal for ${type === 'INT' ? 'int()' : 'float()'}`, extra_info: extra };
    }
    if (typeof info.min === 'number' && n < info.min) return { type: 'value_smaller_than_min', message: `Value ${n} smaller than min of ${info.min}`, details: name, extra_info: extra };
    if (typeof info.max === 'number' && n > info.max) return { type: 'value_bigger_than_max', message: `Value ${n} bigger than max of ${info.max}`, details: name, extra_info: extra };
  }
  return undefined;
}

/**
 * ComfyUI's validate_inputs for one node (recursing into linked nodes), memoised in `validated`.
 * A node whose upstream failed is invalid without reasons of its own, exactly as in ComfyUI.
 */
function validateNode(root: string, graph: Graph, id: string, validated: Map<string, ErrorInfo[] | true>): boolean {
  const seen = validated.get(id);
  if (seen !== undefined) return seen === true;
  const node = graph[id]!;
  const cls = NODE_CLASSES[node.class_type as string]!;
  const { required, optional = {} } = cls.inputs(root);
  const inputs = node.inputs ?? {};
  const errors: ErrorInfo[] = [];
  let valid = true;
  for (const [name, spec] of [...Object.entries(required), ...Object.entries(optional)]) {
    const val = inputs[name];
    if (val === undefined) {
      if (name in required) errors.push({ type: 'required_input_missing', message: 'Required input is missing', details: name, extra_info: { input_name: name } });
      continue;
    }
    if (isLink(val)) {
      const src = graph[val[0]];
      const srcCls = src && NODE_CLASSES[src.class_type as string];
      const received = srcCls?.output[val[1]];
      if (!srcCls || received === undefined) {
        errors.push({ type: 'exception_during_inner_validation', message: 'Exception when validating inner node', details: `'${val[0]}'`, extra_info: { input_name: name, input_config: spec, received_value: val } });
        continue;
      }
      if (received !== spec[0]) {
        errors.push({ type: 'return_type_mismatch', message: 'Return type mismatch between linked nodes', details: `${name}, received_type(${received}) mismatch input_type(${String(spec[0])})`, extra_info: { input_name: name, input_config: spec, received_type: received, linked_node: val } });
        continue;
      }
      if (!validateNode(root, graph, val[0], validated)) valid = false;
      continue;
    }
    const err = checkValue(name, spec, val);
    if (err) errors.push(err);
  }
  const ok = valid && errors.length === 0;
  validated.set(id, ok ? true : errors);
  return ok;
}

/** ComfyUI's validate_prompt: class checks, output nodes, then each output's inputs. */
export function validatePrompt(root: string, graph: Graph, log: (line: string) => void): Validation {
  const outputs: string[] = [];
  for (const [id, node] of Object.entries(graph)) {
    if (node === null || typeof node !== 'object' || !('class_type' in node)) {
      return { ok: false, error: { type: 'invalid_prompt', message: 'Cannot execute because a node is missing the class_type property.', details: `Node ID '#${id}'`, extra_info: {} }, nodeErrors: {} };
    }
    const cls = NODE_CLASSES[node.class_type as string];
    if (!cls) {
      return { ok: false, error: { type: 'invalid_prompt', message: `Cannot execute because node ${String(node.class_type)} does not exist.`, details: `Node ID '#${id}'`, extra_info: {} }, nodeErrors: {} };
    }
    if (cls.output_node) outputs.push(id);
  }
  if (outputs.length === 0) return { ok: false, error: { type: 'prompt_no_outputs', message: 'Prompt has no outputs', details: '', extra_info: {} }, nodeErrors: {} };

  const validated = new Map<string, ErrorInfo[] | true>();
  const good: string[] = [];
  const ownReasons: string[] = [];
  const nodeErrors: Record<string, NodeError> = {};
  for (const o of outputs) {
    if (validateNode(root, graph, o, validated)) {
      good.push(o);
      continue;
    }
    log(`Failed to validate prompt for output ${o}:`);
    const reasons = validated.get(o);
    if (Array.isArray(reasons)) ownReasons.push(...reasons.map((r) => `${r.message}: ${r.details}`));
    for (const [id, result] of validated) {
      if (result === true || result.length === 0) continue;
      if (!nodeErrors[id]) {
        nodeErrors[id] = { errors: result, dependent_outputs: [], class_type: String(graph[id]!.class_type) };
        log(`* ${String(graph[id]!.class_type)} ${id}:`);
        for (const r of result) log(`  - ${r.message}: ${r.details}`);
      }
      nodeErrors[id].dependent_outputs.push(o);
    }
    log('Output will be ignored');
  }
  if (good.length === 0) {
    return { ok: false, error: { type: 'prompt_outputs_failed_validation', message: 'Prompt outputs failed validation', details: ownReasons.join('\n'), extra_info: {} }, nodeErrors };
  }
  return { ok: true, outputs: good, nodeErrors };
}
