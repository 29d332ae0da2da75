/**
 * Every env dialect, one module each. The Record type makes a dialect impossible to
 * half-handle: a name in dialectNames without a complete module does not compile.
 * Adding one: CONTRIBUTING.md, "Add an env dialect".
 */
import { compose } from './compose.js';
import { dotenv } from './dotenv.js';
import type { Dialect } from './names.js';
import { raw } from './raw.js';
import type { DialectModule } from './types.js';

export const dialectModules: Readonly<Record<Dialect, DialectModule>> = { compose, dotenv, raw };

export { dialectLabels, dialectNames, type Dialect, type DialectLabel } from './names.js';
export type { DialectModule, LintInput, Lookup, ReadContext } from './types.js';
