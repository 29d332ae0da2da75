/**
 * Python's view of JSON and of values, as far as the real server lets it show: json.loads keeps
 * 1 and 1.0 apart and integers exact, json.dumps writes floats with repr(), and error texts
 * use str()/repr(). The double keeps those differences so its bodies and logs match byte for byte.
 */

/** A Python float: prints as repr() does (1.0, 0.0001, 1e-05, 1e+16); valueOf() keeps arithmetic working. */
export class PyFloat {
  constructor(readonly value: number) {}
  valueOf(): number {
    return this.value;
  }
  toString(): string {
    return floatRepr(this.value);
  }
}

/** What json.loads gives: int (number, or bigint past 2^53), float, str, bool, None, list, dict. */
export type PyValue = number | bigint | PyFloat | string | boolean | null | PyValue[] | { [key: string]: PyValue };

export function floatRepr(x: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (!Number.isFinite(x)) return x > 0 ? 'Infinity' : '-Infinity';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  // toExponential() with no argument gives the shortest round-tripping digits, like repr().
  const [mantissa, exp] = x.toExponential().split('e') as [string, string];
  const e = Number(exp);
  const sign = mantissa.startsWith('-') ? '-' : '';
  const digits = mantissa.replace('-', '').replace('.', '');
  if (e < -4 || e >= 16) {
    const m = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    return `${sign}${m}e${e < 0 ? '-' : '+'}${String(Math.abs(e)).padStart(2, '0')}`;
  }
  if (e < 0) return `${sign}0.${'0'.repeat(-e - 1)}${digits}`;
  const whole = digits.slice(0, e + 1).padEnd(e + 1, '0');
  const frac = digits.slice(e + 1);
  return `${sign}${whole}.${frac || '0'}`;
}

const escapeAscii = (s: string) => JSON.stringify(s).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);

/** json.dumps with its default separators (", " and ": ") and ensure_ascii: aiohttp's json_response bodies. */
export function pyJson(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (value instanceof PyFloat) return floatRepr(value.value);
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'string') return escapeAscii(value);
  if (typeof value === 'number') return Number.isInteger(value) ? String(value) : floatRepr(value);
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (Array.isArray(value)) return `[${value.map(pyJson).join(', ')}]`;
  return `{${Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${escapeAscii(k)}: ${pyJson(v)}`)
    .join(', ')}}`;
}

/** A deep copy that keeps PyFloat (structuredClone would turn it into a plain object). */
export function pyClone<T>(value: T): T {
  if (value instanceof PyFloat || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map(pyClone) as T;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, pyClone(v)])) as T;
}

/** Python's repr() of a JSON value: 'str' in single quotes, True/False/None, {'k': v}. */
export function pyRepr(value: unknown): string {
  if (value === null || value === undefined) return 'None';
  if (value instanceof PyFloat) return floatRepr(value.value);
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'number') return Number.isInteger(value) ? String(value) : floatRepr(value);
  if (typeof value === 'boolean') return value ? 'True' : 'False';
  if (typeof value === 'string') {
    const quote = value.includes("'") && !value.includes('"') ? '"' : "'";
    const body = value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/\r/g, '\\r').replace(/\t/g, '\\t');
    return quote + (quote === "'" ? body.replace(/'/g, "\\'") : body) + quote;
  }
  if (Array.isArray(value)) return `[${value.map(pyRepr).join(', ')}]`;
  return `{${Object.entries(value as Record<string, unknown>)
    .map(([k, v]) => `${pyRepr(k)}: ${pyRepr(v)}`)
    .join(', ')}}`;
}

/** Python's str(): strings as they are, everything else as repr(). */
export function pyStr(value: unknown): string {
  return typeof value === 'string' ? value : pyRepr(value);
}

/** Python's type(x).__name__ for a JSON value. */
export function pyTypeName(value: unknown): string {
  if (value === null || value === undefined) return 'NoneType';
  if (value instanceof PyFloat) return 'float';
  if (typeof value === 'number' || typeof value === 'bigint') return 'int';
  if (typeof value === 'boolean') return 'bool';
  if (typeof value === 'string') return 'str';
  return Array.isArray(value) ? 'list' : 'dict';
}

/** Python's bool(x) for a JSON value. */
export function pyBool(value: unknown): boolean {
  if (value === null || value === undefined) return false;
  if (typeof value === 'string') return value !== '';
  if (Array.isArray(value)) return value.length > 0;
  if (value instanceof PyFloat || typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean') return Number(value) !== 0;
  return Object.keys(value).length > 0;
}

/** json.JSONDecodeError: what aiohttp's request.json() raises on a bad body. */
export class PyJsonError extends Error {}

/**
 * json.loads: standard JSON plus NaN/Infinity, floats kept as PyFloat, integers exact (bigint
 * beyond 2^53). A small recursive-descent reader, since JSON.parse cannot tell 1 from 1.0.
 */
export function pyParse(text: string): PyValue {
  let i = 0;
  const fail = (what: string): never => {
    const line = text.slice(0, i).split('\n').length;
    throw new PyJsonError(`${what}: line ${line} column ${i - text.lastIndexOf('\n', i - 1)} (char ${i})`);
  };
  const ws = () => {
    while (i < text.length && ' \t\n\r'.includes(text[i]!)) i++;
  };
  const value = (): PyValue => {
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      const obj: Record<string, PyValue> = {};
      ws();
      if (text[i] === '}') {
        i++;
        return obj;
      }
      for (;;) {
        ws();
        if (text[i] !== '"') fail('Expecting property name enclosed in double quotes');
        const key = string();
        ws();
        if (text[i] !== ':') fail("Expecting ':' delimiter");
        i++;
        obj[key] = value();
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === '}') {
          i++;
          return obj;
        }
        fail("Expecting ',' delimiter");
      }
    }
    if (c === '[') {
      i++;
      const arr: PyValue[] = [];
      ws();
      if (text[i] === ']') {
        i++;
        return arr;
      }
      for (;;) {
        arr.push(value());
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === ']') {
          i++;
          return arr;
        }
        fail("Expecting ',' delimiter");
      }
    }
    if (c === '"') return string();
    for (const [word, v] of [
      ['true', true],
      ['false', false],
      ['null', null],
      ['NaN', new PyFloat(NaN)],
      ['Infinity', new PyFloat(Infinity)],
      ['-Infinity', new PyFloat(-Infinity)],
    ] as const) {
      if (text.startsWith(word, i)) {
        i += word.length;
        return v;
      }
    }
    const m = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i));
    if (!m) return fail('Expecting value');
    i += m[0].length;
    if (m[2] !== undefined || m[3] !== undefined) return new PyFloat(Number(m[0]));
    const n = Number(m[0]);
    return Number.isSafeInteger(n) ? n : BigInt(m[0]);
  };
  const string = (): string => {
    const start = i;
    i++;
    for (; i < text.length; i++) {
      if (text[i] === '\\') i++;
      else if (text[i] === '"') break;
    }
    if (i >= text.length) fail('Unterminated string starting at');
    i++;
    try {
      return JSON.parse(text.slice(start, i)) as string;
    } catch {
      return fail('Invalid \\escape');
    }
  };
  const v = value();
  ws();
  if (i < text.length) fail('Extra data');
  return v;
}
