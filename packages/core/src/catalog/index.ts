export { compileGlob, globSpecificity, globsOverlap } from './glob.js';
export { sampleCatalog, sampleCatalogInput } from './sample.js';
export {
  type Catalog,
  type CatalogInput,
  type CatalogPack,
  catalogSchema,
  defineCatalog,
  findTier,
  type MarkupRule,
  type ModelPrice,
  modelForPowerLevel,
  POWER_LEVELS,
  type PowerLevel,
  type Tier,
  tierRank,
} from './schema.js';
