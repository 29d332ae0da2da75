/**
 * compose-go's template.Substitute: `$$`, `$NAME`, `${NAME}` and the six operators,
 * with its brace balancing, lazy arguments and exact error texts.
 */
import { EnvValueError } from '../errors.js';
import { goQuote } from '../text.js';
import type { Lookup } from './types.js';

/**
 * `${…}` expressions nested (or chained after one another, which compose also evaluates
 * recursively) deeper than this are refused rather than evaluated: a hostile file with
 * thousands of levels would otherwise overflow the stack. compose itself reads such a
 * value; no real file comes near this.
 */
export const MAX_TEMPLATE_DEPTH = 200;

/** A template error; the message is compose's own text. */
export class TemplateError extends EnvValueError {
  /** An invalid template quotes the text of the substitute() call it happened in. */
  needsTemplate = false;

  constructor(message: string) {
    super(message);
    this.name = 'TemplateError';
  }

  static invalid(): TemplateError {
    const e = new TemplateError('Invalid template');
    e.needsTemplate = true;
    return e;
  }
}

export interface SubstituteHooks {
  /** A plain `$NAME`/`${NAME}` reference found nothing: compose warns and uses "". */
  unset?: (name: string) => void;
}

// `(?i:...)` in Go also folds U+017F (ſ) to s and U+212A (Kelvin) to k.
const N0 = '[_A-Za-z\\u017F\\u212A]';
const N1 = '[_A-Za-z0-9\\u017F\\u212A]';
const PATTERN = new RegExp(`\\$(?:(\\$)|(${N0}${N1}*)|\\{(?:(${N0}${N1}*(?::?[-+?]([^\\n]*))?)\\}|()))`, 'g');
const NAME = new RegExp(`^${N0}${N1}*`);
const OPERATORS = [':?', '?', ':-', '-', ':+', '+'] as const;

/** Interpolate like compose; throws TemplateError with compose's message. */
export function substitute(template: string, lookup: Lookup, hooks: SubstituteHooks = {}, depth = 0): string {
  if (depth > MAX_TEMPLATE_DEPTH) throw new TemplateError(`more than ${MAX_TEMPLATE_DEPTH} nested or chained \${…} expressions in one value; the panel does not evaluate it`);
  try {
    return template.replace(PATTERN, (whole: string, escaped?: string, named?: string, braced?: string) => {
      if (escaped) return '$';
      if (named) return plain(named, lookup, hooks);
      if (braced === undefined) throw TemplateError.invalid();
      return substituteBraced(whole, lookup, hooks, depth);
    });
  } catch (e) {
    if (e instanceof TemplateError && e.needsTemplate) {
      e.needsTemplate = false;
      e.message = `Invalid template: ${goQuote(template)}`;
    }
    throw e;
  }
}

function plain(name: string, lookup: Lookup, hooks: SubstituteHooks): string {
  const value = lookup(name);
  if (value === undefined) hooks.unset?.(name);
  return value ?? '';
}

function substituteBraced(whole: string, lookup: Lookup, hooks: SubstituteHooks, depth: number): string {
  // The regex ran to the last `}` on the line; balance braces to find the real end.
  const close = firstBalancedClose(whole);
  const rest = close === -1 ? '' : whole.slice(close + 1);
  const inner = (close === -1 ? whole : whole.slice(0, close + 1)).slice(2, -1);
  const name = NAME.exec(inner)?.[0] ?? '';
  const afterName = inner.slice(name.length);
  const op = OPERATORS.find((o) => afterName.startsWith(o));
  if (!op) return plain(name, lookup, hooks);
  const arg = afterName.slice(op.length);
  const value = lookup(name);
  const empty = value === undefined || value === '';
  const sub = (t: string) => substitute(t, lookup, hooks, depth + 1);
  let result: string;
  switch (op) {
    case ':-':
      result = empty ? sub(arg) : (value ?? '');
      break;
    case '-':
      result = value === undefined ? sub(arg) : value;
      break;
    case ':+':
      result = empty ? (value ?? '') : sub(arg);
      break;
    case '+':
      result = value === undefined ? '' : sub(arg);
      break;
    case ':?':
    case '?':
      if (value === undefined || (op === ':?' && value === '')) {
        const reason = sub(arg);
        throw new TemplateError(`required variable ${name} is missing a value${reason ? `: ${reason}` : ''}`);
      }
      result = value;
      break;
  }
  return result + substitute(rest, lookup, hooks, depth + 1);
}

function firstBalancedClose(s: string): number {
  let open = 0;
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '}') {
      open--;
      if (open === 0) return i;
    }
    if (s[i] === '{') {
      open++;
      i++;
    }
  }
  return -1;
}

const ESCAPE = /\\(?:[abcfnrtv$"\\]|0\d{0,3})/g;
const SIMPLE_ESCAPES: Record<string, string> = { a: '\x07', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v', '\\': '\\', '"': '"' };

/** compose-go's expandEscapes for double-quoted values: `\$` becomes `$$` so interpolation keeps it. */
export function expandEscapes(s: string): string {
  return s.replace(ESCAPE, (m) => {
    if (m === '\\$') return '$$';
    if (m.startsWith('\\0')) {
      const octal = m.slice(2);
      if (/^[0-7]{3}$/.test(octal) && parseInt(octal, 8) <= 0o377) return String.fromCharCode(parseInt(octal, 8));
      return `\\${octal}`;
    }
    return SIMPLE_ESCAPES[m.slice(1)] ?? m;
  });
}

/** The text inside quotes after compose's scan: `\<quote>` becomes the quote, other pairs stay. */
export function unescapeQuote(written: string, quote: string): string {
  return written.replace(/\\([\s\S])/g, (m, c: string) => (c === quote ? c : m));
}
