/**
 * The scale, or barème (SPEC "Scale"): the versioned document with its award and status rules, its
 * JSON Schema, and the planning and writing of a new version.
 *
 * The room's door: everything outside src/core/scale/ imports it through this file; the room's own
 * files import each other directly.
 */
export {
  award,
  bonusOf,
  cachedScaleVersion,
  getScaleVersion,
  listScaleVersions,
  raiseStatus,
  scaleAt,
  statusFor,
  statusRank,
  toM100,
  versionInForce,
  type ScaleAction,
  type ScaleDocument,
  type ScaleMultiplier,
  type ScaleStatus,
  type ScaleVersion,
} from './document.js';
export {
  applyAssignments,
  diffScales,
  formatChange,
  parseAssignment,
  parsePath,
  planScaleChange,
  planScaleSet,
  writeScaleVersion,
  type ScaleChangePlan,
} from './edit.js';
export { assertValidScale, parseScaleJson, pointerToPath, SCALE_JSON_SCHEMA, scaleErrors } from './schema.js';
export { scaleVersionAtSql } from './document.js';
