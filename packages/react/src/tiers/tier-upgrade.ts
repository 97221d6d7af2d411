import { Close, Confirm, Content, Description, Preview, Result, Root, TierList, TierOption, Title, Trigger } from './tier-upgrade-parts.js';

/**
 * Unstyled parts of the tier-change dialog, Radix style: `Root` (state, preview, confirm), `Trigger`,
 * `Content`, `Title`, `Description`, `TierList`, `TierOption`, `Preview`, `Confirm`, `Result`, `Close`.
 * `TierUpgradeModal` is these parts composed and styled.
 */
export const TierUpgrade = { Root, Trigger, Content, Title, Description, TierList, TierOption, Preview, Confirm, Result, Close };
