import type { Knex } from 'knex';
import { RayonError, validationError } from '../errors.js';
import { assertActive, credit, dueLotsSql, lockAccount, normaliseTx, shownBalance, type Account, type TxRow } from '../ledger/index.js';
import { award, bonusOf, cachedScaleVersion, scaleAt, scaleVersionAtSql } from '../scale/index.js';
import { ACTION_TYPE_RE, capExceeded } from './caps.js';
import { normaliseReference, referenceIdProblem } from './reference.js';
import { localDate } from '../time.js';
import { audit, auditable } from '../audit/index.js';

/**
 * Earning points for an action the platform reports (SPEC "Earning for actions"). Order: input
 * validation, user found, replay (a retried earn answers its first result, whatever happened
 * since), suspended, territory, action known in the scale in force, who may report it, caps.
 * The balance row lock serialises a user's earns, so cap counts read under it are exact; the
 * unique key `earn:<user>:<action>:<reference_id>` makes the credit happen once, with the
 * reference normalised first (reference.ts), so spellings that look alike are one reference.
 */

export interface EarnResult {
  transaction_id: number;
  points_awarded: number;
  balance: number;
  replay: boolean;
  /** The status after this credit (it may just have risen). */
  status: string;
}

export interface EarnOptions {
  actor?: string;
  /** The action comes from the user's own token: allowed only for `user_reportable` actions. */
  userReported?: boolean;
}

type Outcome = { result: EarnResult } | { refusal: RayonError };

export async function earn(db: Knex, userId: string, actionType: string, rawReferenceId: string, now: Date, opts: EarnOptions = {}): Promise<EarnResult> {
  const problems = [];
  if (typeof actionType !== 'string' || !ACTION_TYPE_RE.test(actionType)) {
    problems.push({ where: 'action_type', message: 'must be 1-64 characters of a-z 0-9 _, starting with a letter' });
  }
  const refProblem = referenceIdProblem(rawReferenceId);
  if (refProblem) problems.push({ where: 'reference_id', message: refProblem });
  if (problems.length) throw validationError(`invalid earn: ${problems.map((p) => `${p.where} ${p.message}`).join('; ')}`, problems);
  // From here on only the normalised form exists: the key, the replay, the caps, the refusal record.
  const referenceId = normaliseReference(rawReferenceId);

  const outcome: Outcome = await db.transaction(async (trx) => {
    const account = await lockAccount(trx, userId);
    const day = localDate(now, account.timezone);
    const key = `earn:${userId}:${actionType}:${referenceId}`;
    const { rows } = await trx.raw(
      `select (select row_to_json(t.*) from idempotency_keys k
                 join points_transactions t on t.user_id = k.user_id and t.id = k.transaction_id
                where k.user_id = :user and k.key = :key) as replay,
              count(*) filter (where e.local_date = :day)::int as today,
              count(*)::int as ever,
              ${dueLotsSql(':user', ':now')} as due,
              ${scaleVersionAtSql(':day')} as scale_version,
              exists (select 1 from suspensions s where s.user_id = :user and s.lifted_at is null) as suspended,
              (select t.state from users u join territories t on t.code = u.territory_code where u.id = :user) as territory_state
         from points_transactions e
        where e.user_id = :user and e.type = 'earn' and e.action_type = :action
          and not exists (select 1 from transaction_reversals r where r.user_id = e.user_id and r.transaction_id = e.id)`,
      { user: userId, key, day, now, action: actionType },
    );
    const q = rows[0];
    if (q.replay) {
      const first = normaliseTx(typeof q.replay === 'string' ? JSON.parse(q.replay) : q.replay);
      return { result: answer(first, shownBalance(account.balance, q.due), true, account.status) };
    }
    // Read again after the lock: the lock statement's snapshot predates the wait for the row, so
    // a suspension or an unlaunch committed meanwhile is only visible from here.
    account.suspended = q.suspended;
    account.territoryState = q.territory_state;
    const refusal = checkEarn(account, q.scale_version === null ? null : await cachedScaleVersion(trx, q.scale_version), actionType, q, opts);
    if (refusal) {
      // Recorded and committed with the refusal: the fraud rules and `scale simulate` read them.
      await trx('refused_earns').insert({
        user_id: userId, action_type: actionType, reference_id: referenceId, reason: refusal.code,
        local_date: day, territory_code: account.territoryCode, at: now,
      });
      return { refusal };
    }
    const scale = await cachedScaleVersion(trx, q.scale_version);
    const action = scale.document.actions[actionType];
    const bonusPct = bonusOf(account.status, scale.document.statuses);
    const points = award(action.points, 100, bonusPct);
    const r = await credit(trx, account, {
      type: 'earn', amount: points, now, key, earning: true, scale,
      fields: { action_type: actionType, reference_id: referenceId, m100: 100, bonus_pct: bonusPct, scale_version: scale.version, actor: opts.actor ?? null },
    });
    if (auditable(opts.actor, userId)) {
      await audit(trx, {
        actor: opts.actor!, action: 'points.earn', target: userId, at: now,
        details: { transaction_id: r.transaction.id, action_type: actionType, reference_id: referenceId, points },
      });
    }
    return { result: answer(r.transaction, shownBalance(r.balance, q.due), r.replay, r.status) };
  });
  if ('refusal' in outcome) throw outcome.refusal;
  return outcome.result;
}

/** The business refusal of an earn by an existing user, if any (checked in SPEC order). */
function checkEarn(
  account: Account,
  scale: Awaited<ReturnType<typeof scaleAt>> | null,
  actionType: string,
  counts: { today: number; ever: number },
  opts: EarnOptions,
): RayonError | null {
  try {
    assertActive(account);
  } catch (err) {
    if (err instanceof RayonError) return err;
    throw err;
  }
  const action = scale?.document.actions[actionType];
  if (!scale || !action) {
    const known = scale ? Object.keys(scale.document.actions).sort().join(', ') : 'none';
    return validationError(`unknown action_type ${JSON.stringify(actionType)} (the scale in force knows: ${known})`, [
      { where: 'action_type', message: 'unknown action' },
    ]);
  }
  if (opts.userReported && !action.user_reportable) {
    return new RayonError('FORBIDDEN', `action ${actionType} is reported by the platform, not by the user`);
  }
  const hit = capExceeded(action, counts);
  if (hit) {
    return new RayonError('CAP_REACHED', `${actionType}: ${hit.cap === 'daily_cap' ? 'daily' : 'lifetime'} cap of ${hit.limit} reached`, {
      data: { cap: hit.cap, limit: hit.limit },
    });
  }
  return null;
}

function answer(tx: TxRow, balance: number, replay: boolean, status: string): EarnResult {
  return { transaction_id: tx.id, points_awarded: tx.amount, balance, replay, status };
}
