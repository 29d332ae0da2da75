/** The ComfyUI credential: one vault as source of truth (the bcrypt hash is the API token and a secret). */
export { readCurrentCredential, openVault, vaultDir, Vault, type VaultState } from './vault.js';
export { fileKeyStore, wrappedKeyStore, type SecretKeyStore, type KeyStoreInfo, type KeyWrapper } from './keystore.js';
export { createCredential, hashPassword, generatePassword, passwordFileContent, parsePasswordFile, isBcryptHash, type Credential } from './credential.js';
