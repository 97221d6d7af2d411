export { ByokKeyForm, type ByokKeyFormProps, type ByokProviderOption } from './byok-key-form.js';
export { useByokKeys, useRemoveByokKey, useSetByokKey } from './hooks.js';
