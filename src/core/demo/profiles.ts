import type { Rng } from './prng.js';

/**
 * Behaviour profiles of the demo's users (SPEC "Demo data"): how often each kind of user
 * collects, which actions they report, how readily they redeem, and when they stop. Numbers are
 * per local day; they were chosen so that the default demo lands near the dashboard's targets
 * (a quarter of registered users collecting on a given day, some breakage, a few refunds).
 */
export type ProfileCode = 'daily' | 'occasional' | 'churner' | 'seller' | 'dormant';

export interface Profile {
  code: ProfileCode;
  /** Probability of collecting on a day the user is active. */
  collect: number;
  /** Mean number of each action reported on an active day. */
  actions: Partial<Record<ActionCode, number>>;
  /** Probability of redeeming on an active day, when something is affordable. */
  redeem: number;
  /** Churners stop after this many days (drawn per user between the bounds). */
  activeDays?: [number, number];
}

export type ActionCode = 'listing_created' | 'transaction_completed' | 'review_posted' | 'referral_signup' | 'profile_completed';

export const PROFILES: Record<ProfileCode, Profile> = {
  daily: { code: 'daily', collect: 0.85, actions: { listing_created: 0.12, transaction_completed: 0.08, review_posted: 0.1, referral_signup: 0.01 }, redeem: 0.06 },
  occasional: { code: 'occasional', collect: 0.16, actions: { listing_created: 0.04, transaction_completed: 0.04, review_posted: 0.03 }, redeem: 0.05 },
  churner: { code: 'churner', collect: 0.7, actions: { listing_created: 0.08, review_posted: 0.04 }, redeem: 0.04, activeDays: [3, 21] },
  seller: { code: 'seller', collect: 0.5, actions: { listing_created: 0.9, transaction_completed: 1.1, review_posted: 0.2, referral_signup: 0.02 }, redeem: 0.1 },
  dormant: { code: 'dormant', collect: 0, actions: {}, redeem: 0 },
};

/** Share of each profile among the demo's users. */
export const PROFILE_MIX: Record<ProfileCode, number> = { daily: 20, occasional: 37, churner: 20, seller: 8, dormant: 15 };

/** Rough population weights of the territories: La Réunion gets the most users. */
export const TERRITORY_WEIGHTS: Record<string, number> = {
  RE: 86, GP: 38, MQ: 35, GF: 29, YT: 32, PM: 1, BL: 1, MF: 3, WF: 1, PF: 28, NC: 27,
};

/** Share of users who arrive during the period (the others' accounts predate the programme). */
export const NEW_USER_SHARE = 0.35;
/** Accounts older than the period were created up to this many days before it. */
export const PRIOR_ACCOUNT_DAYS = 180;
/** Share of active users who complete their profile on their first active day. */
export const PROFILE_COMPLETION = 0.6;
/** A goodwill credit by support, per user over the period. */
export const GOODWILL_SHARE = 0.004;
/** Share of manual-fulfilment redemptions that ops reject (the points are refunded). */
export const REJECT_SHARE = 0.2;

const FIRST = ['Léa', 'Noah', 'Emma', 'Lucas', 'Jade', 'Hugo', 'Chloé', 'Nathan', 'Manon', 'Enzo', 'Inès', 'Théo', 'Maëlys', 'Mathis', 'Anaïs', 'Kylian', 'Océane', 'Ethan', 'Louna', 'Rayan'];
const LAST = ['Payet', 'Hoarau', 'Grondin', 'Fontaine', 'Robert', 'Técher', 'Rivière', 'Lebon', 'Boyer', 'Maillot', 'Nativel', 'Dijoux', 'Lauret', 'Hoareau', 'Turpin', 'Clain', 'Morel', 'Begue', 'Gonthier', 'Ethève'];

export function demoName(rng: Rng): string {
  return `${rng.pick(FIRST)} ${rng.pick(LAST)}`;
}
