/** The `.env` dialect engine: lossless documents, per-dialect reading and writing, audit and sync. */
export { EnvSyntaxError, MAX_ENV_FILE_BYTES } from './errors.js';
export { parseEnvDocument, serializeEnvDocument, envEntries, type EnvDocument, type EnvEntry, type EnvNode, type EnvLineNode, type EnvProblem, type QuoteStyle } from './document.js';
export { readEnvValues, readDocumentValues, literalValue, literalValues, type ReadEnvOptions, type Lookup } from './read.js';
export { quoteForDialect } from './quote.js';
export { setEnvValues } from './set.js';
export type { Dialect } from '../config/schema.js';
export { discoverEnvFiles, guessDialect, COMPOSE_FILE_NAMES, type Discovery, type DiscoveredEnvFile } from './discover.js';
export { auditEnvTree, type AuditOptions } from './audit.js';
export { diffEnvFiles, showEnvFile, type DiffOptions, type InspectOptions } from './inspect.js';
export { planEnvSync, applyEnvSync, previewOf, type EnvSyncValues, type EnvSyncPlan, type EnvSyncPlanItem, type ApplyOptions } from './sync.js';
export { isSecret, isSecretKey } from './secrets.js';
export type { EnvAudit, EnvFinding, EnvFileSummary, EnvDiff, EnvShowResult, EnvSyncPreview, EnvSyncResult } from '../contract/ops/env.js';
