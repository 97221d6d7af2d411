export {
  createKeyVault,
  type KeyVault,
  type KeyVaultOptions,
  maskSecret,
  parseSealed,
  type SealedSecret,
  type SecretContext,
  type StoredSecret,
  serializeSealed,
} from './vault.js';
