/**
 * The catalog (SPEC "Catalog, partners, redemptions", "Catalog CSV"): rewards and what is
 * available now in a territory, the catalog CSV rules, the bulk import (validate, stage, plan,
 * apply; the COPY fast path is pinned to the TypeScript rules by a differential test), the export,
 * and the partners who supply the rewards.
 *
 * The room's door: everything outside src/core/catalog/ imports it through this file; the room's
 * own files import each other directly.
 */
export { rawColumns, rawTableDdl, stageWithCopy, validateAndStageSql } from './copy.js';
export {
  CATALOG_COLUMNS,
  CATALOG_OPTIONAL,
  CATALOG_REQUIRED,
  checkHeader,
  exportCells,
  neutralise,
  unneutralise,
  validateRewardRow,
  type CatalogColumn,
  type RewardInput,
} from './csv.js';
export { importCatalog, type CatalogImportResult } from './import.js';
export { importPartners, listPartners, validatePartnerRow } from './partners.js';
export { catalogPage, catalogPageJson, CatalogTotals, exportCatalog, listCatalog } from './rewards.js';
export { STAGE_COLUMNS } from './stage.js';
export { availableNow, availableNowSql, offerAvailableSql, soldOut, unavailability, unitLeftSql, type OfferFacts, type Unavailability } from './available.js';
export { catalogTerritory } from './rewards.js';
