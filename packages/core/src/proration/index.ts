export {
  type CreditsGranted,
  type PreviewTierChangeInput,
  type ProrationGranularity,
  type ProrationLine,
  type ProrationShare,
  previewTierChange,
  prorate,
  remainingShare,
  type SubscriptionPeriod,
  type TierChangePreview,
} from './preview.js';
