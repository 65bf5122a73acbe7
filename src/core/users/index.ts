/**
 * Users and territories (SPEC "Territories", "Users"): the accounts system's users (import, add,
 * beta flag) and each territory's launch state.
 *
 * The room's door: everything outside src/core/users/ imports it through this file; the room's own
 * files import each other directly.
 */
export { parseUsersCsv } from './csv.js';
export { listTerritories, setTerritoryState } from './territories.js';
export {
  addUser,
  getUser,
  importUsers,
  resolveUser,
  setBeta,
  territoryCodes,
  upsertUsers,
  USER_ID_RE,
  validateUser,
  type UserInput,
  type UserRow,
} from './users.js';
export { normaliseTerritoryCode, type TerritoryState } from './territories.js';
export { planUserImport } from './users.js';
