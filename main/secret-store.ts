import { safeStorage } from 'electron';
import type { KeyWrapper } from '../app/tokens/keystore.js';

/**
 * The vault key wrapped by the OS keychain through Electron's async safeStorage
 * (DPAPI, Keychain, libsecret/kwallet). The key travels as base64 text because
 * safeStorage encrypts strings.
 */
export const safeStorageWrapper: KeyWrapper = {
  async backend() {
    if (!(await safeStorage.isAsyncEncryptionAvailable())) return 'unavailable';
    return process.platform === 'linux' ? safeStorage.getSelectedStorageBackend() : process.platform === 'win32' ? 'dpapi' : 'keychain';
  },
  encrypt: async (plain) => safeStorage.encryptStringAsync(plain.toString('base64')),
  decrypt: async (wrapped) => Buffer.from((await safeStorage.decryptStringAsync(wrapped)).result, 'base64'),
};
