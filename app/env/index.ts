/** The `.env` dialect engine: lossless documents, per-dialect reading and writing, audit and sync. */
export { EnvSyntaxError, EnvValueError, MAX_ENV_FILE_BYTES } from './errors.js';
export { dialectModules, dialectLabels, dialectNames, type DialectModule, type DialectLabel, type LintInput, type ReadContext } from './dialects/index.js';
export { parseEnvDocument, serializeEnvDocument, envEntries, type EnvDocument, type EnvEntry, type EnvNode, type EnvLineNode, type EnvProblem, type QuoteStyle } from './document.js';
export { readEnvValues, readDocumentValues, literalValue, literalValues, type ReadEnvOptions, type Lookup } from './read.js';
export { quoteForDialect } from './quote.js';
export { setEnvValues } from './set.js';
export type { Dialect } from './dialects/names.js';
export { resolveEnvRoot, resolveEnvTarget, envScope, scopeAt, isInside, type EnvScope, type EnvConfig } from './root.js';
export { discoverEnvFiles, guessDialect, COMPOSE_FILE_NAMES, type Discovery, type DiscoveredEnvFile } from './discover.js';
export { readEnvFile, readEnvText, readEnvFileValues, ENV_NOT_FOUND, ENV_UNREADABLE, type EnvFileContent } from './files.js';
export { auditEnvTree, type AuditOptions } from './audit.js';
export { diffEnvFiles, showEnvFile, type DiffOptions, type InspectOptions } from './inspect.js';
export { planEnvSync, applyEnvSync, previewOf, type EnvSyncValues, type EnvSyncPlan, type EnvSyncPlanItem, type ApplyOptions } from './sync.js';
export { isSecret, isSecretKey } from './secrets.js';
export type { EnvAudit, EnvFinding, EnvFileSummary, EnvDiff, EnvShowResult, EnvSyncPreview, EnvSyncResult } from '../contract/ops/env.js';
