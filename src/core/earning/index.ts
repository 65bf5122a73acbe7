/**
 * How users earn (SPEC "Daily collection and streaks", "Earning for actions"): the daily
 * collection and its streak, earning for actions and its caps, the normalised reference_id that
 * keys an earn, and the simulation of a candidate scale over past activity.
 *
 * The room's door: everything outside src/core/earning/ imports it through this file; the room's
 * own files import each other directly.
 */
export { capExceeded } from './caps.js';
export { collectDaily, dailyBatchStats } from './collect.js';
export { earn } from './earn.js';
export {
  foldReference,
  normaliseReference,
  parseReferenceId,
  REFERENCE_ID_MAX,
  REFERENCE_ID_RAW_MAX,
  referenceIdProblem,
  stripInvisible,
} from './reference.js';
export { formatEur, simulateScale, type SimulationRow } from './simulate.js';
export { dailyAward, effectiveStreak, m100ForDay, NEW_STREAK, streakStatus, streakTransition, type StreakState } from './streak.js';
export { normaliseReferenceSql } from './reference.js';
