/**
 * How users earn (SPEC "Daily collection and streaks", "Earning for actions"): the entry points
 * the CLI and the HTTP mode call. The rules live in streak.ts, caps.ts and scale.ts; the
 * operations in daily.ts and earn.ts.
 */
export { collectDaily, dailyBatchStats, streakStatus, type CollectResult, type StreakStatus } from './daily.js';
export { earn, type EarnOptions, type EarnResult } from './earn.js';
export { streakTransition, effectiveStreak, m100ForDay, dailyAward, type StreakState, type StreakRules } from './streak.js';
export { capExceeded } from './caps.js';
export { normaliseReference, foldReference, referenceIdProblem } from './text.js';
