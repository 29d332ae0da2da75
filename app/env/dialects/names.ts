// The dialect names and labels live with the contract's other zod-free names (the UI needs them);
// the modules that implement each dialect are registered in ./index.ts under these same names.
export { dialects as dialectNames, dialectLabels, type Dialect, type DialectLabel } from '../../contract/names.js';
