export { BuyCreditsDialog, type BuyCreditsDialogProps } from './buy-credits-dialog.js';
export { useAutoRecharge, useBuyCreditPack, useCreditPacks, useSetAutoRecharge } from './hooks.js';
