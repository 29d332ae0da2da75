/** A small line diff for previews, with secret values masked. */
import { mask, redact } from '../redact.js';
import { bounded } from './errors.js';
import { isSecret } from './secrets.js';

const ASSIGNMENT = /^(\s*(?:export\s+)?)([^\s=:#]+)(\s*[=:]\s*)(.*?)(\s*)$/;
const QUOTED = /^(['"`])([\s\S]*)\1$/;

/** The line with its value masked when the key or the value looks secret. */
export function maskLine(line: string): string {
  const m = ASSIGNMENT.exec(line);
  if (!m) return redact(line);
  const [, lead = '', key = '', sep = '', value = '', trail = ''] = m;
  const bare = QUOTED.exec(value)?.[2] ?? value;
  return isSecret(key, bare) ? `${lead}${key}${sep}${mask(bare)}${trail}` : redact(line);
}

/** Lines of a preview diff past which the rest is only counted: a preview of a 20,000-line rewrite stays readable and small. */
export const MAX_DIFF_LINES = 200;

/**
 * Removed (`-N: text`) and added (`+N: text`) lines, N being the line number in the old
 * and new text; common lines are left out. LCS over the differing middle part. At most
 * MAX_DIFF_LINES lines, then one saying how many more.
 */
export function maskedLineDiff(before: string, after: string): string[] {
  const all = lineDiff(before, after);
  const shown = all.slice(0, MAX_DIFF_LINES).map(([prefix, line]) => `${prefix}${bounded(maskLine(line), 300)}`);
  return all.length > MAX_DIFF_LINES ? [...shown, `… and ${all.length - MAX_DIFF_LINES} more changed lines`] : shown;
}

/** [`-N: ` or `+N: `, the line] for each removed and added line. */
function lineDiff(before: string, after: string): [string, string][] {
  const a = before === '' ? [] : before.replace(/\r?\n$/, '').split(/\r?\n/);
  const b = after === '' ? [] : after.replace(/\r?\n$/, '').split(/\r?\n/);
  let start = 0;
  while (start < a.length && start < b.length && a[start] === b[start]) start++;
  let endA = a.length;
  let endB = b.length;
  while (endA > start && endB > start && a[endA - 1] === b[endB - 1]) [endA, endB] = [endA - 1, endB - 1];
  const midA = a.slice(start, endA);
  const midB = b.slice(start, endB);
  const show = (sign: string, offset: number) => (line: string, k: number): [string, string] => [`${sign}${start + offset + k + 1}: `, line];
  // Past this size the LCS table costs too much; list the whole middle as replaced.
  if (midA.length * midB.length > 1_000_000) return [...midA.map(show('-', 0)), ...midB.map(show('+', 0))];
  // lcs[i][j]: length of the longest common subsequence of midA[i..] and midB[j..].
  const lcs = Array.from({ length: midA.length + 1 }, () => new Array<number>(midB.length + 1).fill(0));
  for (let i = midA.length - 1; i >= 0; i--) {
    for (let j = midB.length - 1; j >= 0; j--) {
      const row = lcs[i] as number[];
      row[j] = midA[i] === midB[j] ? (lcs[i + 1]?.[j + 1] ?? 0) + 1 : Math.max(lcs[i + 1]?.[j] ?? 0, row[j + 1] ?? 0);
    }
  }
  const out: [string, string][] = [];
  let i = 0;
  let j = 0;
  while (i < midA.length || j < midB.length) {
    if (i < midA.length && j < midB.length && midA[i] === midB[j]) [i, j] = [i + 1, j + 1];
    else if (i < midA.length && (j >= midB.length || (lcs[i + 1]?.[j] ?? 0) >= (lcs[i]?.[j + 1] ?? 0))) out.push(show('-', -1)(midA[i] ?? '', ++i));
    else out.push(show('+', -1)(midB[j] ?? '', ++j));
  }
  return out;
}
