export { type ByokKeyInfo, type ByokKeys, type ByokKeysOptions, createByokKeys, type SetProviderKeyOptions } from './keys.js';
export {
  checkProviderBalance,
  checkProviderKey,
  checkProviderKeyQuery,
  PROVIDER_ID,
  PROVIDER_KEY_SOURCES,
  type ProviderBalance,
  type ProviderKeyQuery,
  type ProviderKeyRecord,
  type ProviderKeySource,
  type ProviderStore,
  providerKeyCursor,
} from './store.js';
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
