import { compileGlob, globSpecificity } from '../catalog/glob.js';
import { type Catalog, findTier, type MarkupRule } from '../catalog/schema.js';

export interface ResolvedMarkup {
  /** Basis points added on top of provider cost: 1000 = 10 %. */
  bps: number;
  /** The rule that decided, or null when none matched (then 0 bps). */
  rule: MarkupRule | null;
  /** Free models (price 0 or an id ending in `:free`) are never marked up. */
  free: boolean;
}

const matchers = new WeakMap<MarkupRule, (model: string) => boolean>();
function matches(rule: MarkupRule, model: string): boolean {
  let matcher = matchers.get(rule);
  if (!matcher) {
    matcher = compileGlob(rule.model);
    matchers.set(rule, matcher);
  }
  return matcher(model);
}

/**
 * The markup for a model on a tier. Most specific rule wins: more literal characters in
 * the model pattern first, then a rule naming the tier over a `"*"` rule. The catalog
 * schema refuses rules that could tie, so the winner is always unique.
 */
export function resolveMarkup(catalog: Catalog, tier: string, model: string, free = false): ResolvedMarkup {
  findTier(catalog, tier);
  if (free) return { bps: 0, rule: null, free: true };
  let best: MarkupRule | null = null;
  let bestScore = -1;
  for (const rule of catalog.markup) {
    if (rule.tier !== '*' && rule.tier !== tier) continue;
    if (!matches(rule, model)) continue;
    const score = globSpecificity(rule.model) * 2 + (rule.tier === '*' ? 0 : 1);
    if (score > bestScore) {
      best = rule;
      bestScore = score;
    }
  }
  return { bps: best?.bps ?? 0, rule: best, free: false };
}
