/** The gateway's public surface: the process (startGateway), the panel's key store API, usage, control. */
export { startGateway, type Gateway, type GatewayOptions, type GatewayStatus, type DrainStatus, type IntakeState } from './server.js';
export { createKey, listKeys, revokeKey, rotateKey, mintLoginLink, pruneKeys, readKeyStore, storePath, SCOPES, KEY_PREFIX, type Scope, type CreateKeyInput, type CreatedKey, type KeyInfo } from './keys.js';
export { usage, type KeyUsage, type AddressUsage } from './usage.js';
export { GatewayControl, type GatewayControlOptions } from './control-client.js';
export { ruleFor, routeOf, type RouteRule } from './routes.js';
