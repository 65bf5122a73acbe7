import type { ScaleDocument } from '../../src/core/scale/index.js';

/** The default scale (SPEC version 1), for tests that derive proposals from it. */
export const DEFAULT: ScaleDocument = {
  daily: {
    base_points: 10,
    multipliers: [
      { from_day: 1, multiplier: 1 }, { from_day: 3, multiplier: 1.2 }, { from_day: 7, multiplier: 1.5 },
      { from_day: 14, multiplier: 2 }, { from_day: 30, multiplier: 3 },
    ],
    joker_every_days: 7,
    max_jokers: 3,
  },
  actions: {
    listing_created: { points: 20, daily_cap: 5 },
    transaction_completed: { points: 50, daily_cap: 10 },
    review_posted: { points: 10, daily_cap: 5 },
    referral_signup: { points: 200, daily_cap: 3 },
    profile_completed: { points: 100, lifetime_cap: 1 },
  },
  expiry_days: 365,
  statuses: [
    { code: 'bronze', min_lifetime_points: 0, earn_bonus_pct: 0 },
    { code: 'silver', min_lifetime_points: 2000, earn_bonus_pct: 10 },
    { code: 'gold', min_lifetime_points: 10000, earn_bonus_pct: 25 },
  ],
  point_value_eur: 0.01,
};

