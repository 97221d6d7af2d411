export { useChangeTier, useTierChangePreview, useTiers } from './hooks.js';
export { PricingTable, type PricingTableProps } from './pricing-table.js';
export { TierUpgrade } from './tier-upgrade.js';
export { TierUpgradeModal, type TierUpgradeModalProps } from './tier-upgrade-modal.js';
export {
  type TierPreviewState,
  type TierUpgradeContentProps,
  type TierUpgradeContextValue,
  type TierUpgradePreviewProps,
  type TierUpgradeResultProps,
  type TierUpgradeRootProps,
  type TierUpgradeTierListProps,
  type TierUpgradeTierOptionProps,
  useTierUpgrade,
} from './tier-upgrade-parts.js';
