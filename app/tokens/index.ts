/**
 * The ComfyUI credential: one encrypted vault as the source of truth, every copy audited
 * against it, rotation verified against the live server. The bcrypt hash is the API token
 * and a secret too: only fingerprints leave this module, except clientEnvLines on request.
 */
export { readCurrentCredential, openVault, vaultDir, Vault, fileVaultKeys, KEY_FILE, type VaultKeys, type VaultState } from './vault.js';
export { fileKeyStore, wrappedKeyStore, type SecretKeyStore, type KeyStoreInfo, type KeyWrapper } from './keystore.js';
export { createCredential, hashPassword, generatePassword, passwordFileContent, parsePasswordFile, isBcryptHash, type Credential } from './credential.js';
export { tokenActions, containerServer, configuredLocations, type TokenActionOptions } from './actions.js';
export { actorName } from './audit-log.js';
export { rotateCredential, recoverRotation, type ComfyServerControl, type RotationDeps, type RotationPlan } from './rotation.js';
export { auditCredential } from './audit.js';
export type { CredentialLocation, LocationReading, LocationSnapshot, ContainerFiles } from './locations.js';
