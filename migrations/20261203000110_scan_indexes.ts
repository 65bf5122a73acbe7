import type { Knex } from 'knex';
import { runSql } from '../src/db/sql.js';

/**
 * Indexes for the set-based reads over a whole window of the ledger (`fraud scan`, `kpi report`),
 * each partial on the one transaction type it serves, so the hot paths of other types never
 * maintain them and the reads go through a compact index instead of every ledger row:
 * - earns by user and time: `earn_velocity` reads each user's earns in order, with no sort;
 * - earns by the hash of (action, reference key), with the columns the rule reads:
 *   `shared_reference` finds the keys shared by several users in one ordered pass. The key is
 *   `referenceKeySql` (src/core/fraud/reference-key.ts) as it stood when this migration was
 *   written, frozen below; the rule's statement computes the same expression, which is what lets
 *   the planner use the index. test/integration/fraud-scan-indexes.test.ts fails when the two
 *   drift apart: changing the key then needs a migration that recreates this index;
 * - daily rows by user and local date, with their instant and streak day: `lockstep_farm`'s
 *   per-account sets of days and the KPI report's streak runs, in order, with no sort. Unique:
 *   one daily row per user and local date, which the idempotency key `daily:<user>:<date>`
 *   already implied, is now a constraint of its own;
 * - redemptions by local date: the KPI report's redemption delay finds the period's redemptions
 *   without reading the ledger;
 * - manual credits by time: `operator_adjustments` reads a few hundred rows, not the ledger;
 * - open lots by expiry (the expiry run's index) now carry what the KPI report's liability and
 *   expiry forecast read, which then go through the open lots' index alone, not every lot.
 * And the review queue's status index no longer holds `last_seen`, with room left on each page:
 * a scan's refresh of a case then rewrites it in place (a HOT update) instead of touching every
 * index of `fraud_cases`.
 */

/** `referenceKeySql('reference_id')` on 2026-12-03. */
export const FROZEN_REFERENCE_KEY = "(case when octet_length(reference_id) <> char_length(reference_id) then translate(lower(regexp_replace(normalize(regexp_replace(reference_id, '[\\u00AD\\u200B-\\u200D\\u2060\\uFEFF\\u200E\\u200F\\u202A-\\u202E\\u2066-\\u2069\\u061C]', '', 'g'), NFKC), '[\\u00AD\\u200B-\\u200D\\u2060\\uFEFF\\u200E\\u200F\\u202A-\\u202E\\u2066-\\u2069\\u061C]', '', 'g') collate \"C\"), 'ÀÁÂÃÄÅÆÇÈÉÊËÌÍÎÏÐÑÒÓÔÕÖØÙÚÛÜÝÞĀĂĄĆĈĊČĎĐĒĔĖĘĚĜĞĠĢĤĦĨĪĬĮĲĴĶĹĻĽĿŁŃŅŇŊŌŎŐŒŔŖŘŚŜŞŠŢŤŦŨŪŬŮŰŲŴŶŸŹŻŽƁƂƄƆƇƉƊƋƎƏƐƑƓƔƖƗƘƜƝƟƠƢƤƦƧƩƬƮƯƱƲƳƵƷƸƼǄǅǇǈǊǋǍǏǑǓǕǗǙǛǞǠǢǤǦǨǪǬǮǱǲǴǶǷǸǺǼǾȀȂȄȆȈȊȌȎȐȒȔȖȘȚȜȞȠȢȤȦȨȪȬȮȰȲȺȻȽȾɁɃɄɅɆɈɊɌɎͰͲͶͿΆΈΉΊΌΎΏΑΒΓΔΕΖΗΘΙΚΛΜΝΞΟΠΡΣΤΥΦΧΨΩΪΫϏϘϚϜϞϠϢϤϦϨϪϬϮϴϷϹϺϽϾϿЀЁЂЃЄЅІЇЈЉЊЋЌЍЎЏАБВГДЕЖЗИЙКЛМНОПРСТУФХЦЧШЩЪЫЬЭЮЯѠѢѤѦѨѪѬѮѰѲѴѶѸѺѼѾҀҊҌҎҐҒҔҖҘҚҜҞҠҢҤҦҨҪҬҮҰҲҴҶҸҺҼҾӀӁӃӅӇӉӋӍӐӒӔӖӘӚӜӞӠӢӤӦӨӪӬӮӰӲӴӶӸӺӼӾԀԂԄԆԈԊԌԎԐԒԔԖԘԚԜԞԠԢԤԦԨԪԬԮḀḂḄḆḈḊḌḎḐḒḔḖḘḚḜḞḠḢḤḦḨḪḬḮḰḲḴḶḸḺḼḾṀṂṄṆṈṊṌṎṐṒṔṖṘṚṜṞṠṢṤṦṨṪṬṮṰṲṴṶṸṺṼṾẀẂẄẆẈẊẌẎẐẒẔẞẠẢẤẦẨẪẬẮẰẲẴẶẸẺẼẾỀỂỄỆỈỊỌỎỐỒỔỖỘỚỜỞỠỢỤỦỨỪỬỮỰỲỴỶỸỺỼỾİ', 'àáâãäåæçèéêëìíîïðñòóôõöøùúûüýþāăąćĉċčďđēĕėęěĝğġģĥħĩīĭįĳĵķĺļľŀłńņňŋōŏőœŕŗřśŝşšţťŧũūŭůűųŵŷÿźżžɓƃƅɔƈɖɗƌǝəɛƒɠɣɩɨƙɯɲɵơƣƥʀƨʃƭʈưʊʋƴƶʒƹƽǆǆǉǉǌǌǎǐǒǔǖǘǚǜǟǡǣǥǧǩǫǭǯǳǳǵƕƿǹǻǽǿȁȃȅȇȉȋȍȏȑȓȕȗșțȝȟƞȣȥȧȩȫȭȯȱȳⱥȼƚⱦɂƀʉʌɇɉɋɍɏͱͳͷϳάέήίόύώαβγδεζηθικλμνξοπρστυφχψωϊϋϗϙϛϝϟϡϣϥϧϩϫϭϯθϸϲϻͻͼͽѐёђѓєѕіїјљњћќѝўџабвгдежзийклмнопрстуфхцчшщъыьэюяѡѣѥѧѩѫѭѯѱѳѵѷѹѻѽѿҁҋҍҏґғҕҗҙқҝҟҡңҥҧҩҫҭүұҳҵҷҹһҽҿӏӂӄӆӈӊӌӎӑӓӕӗәӛӝӟӡӣӥӧөӫӭӯӱӳӵӷӹӻӽӿԁԃԅԇԉԋԍԏԑԓԕԗԙԛԝԟԡԣԥԧԩԫԭԯḁḃḅḇḉḋḍḏḑḓḕḗḙḛḝḟḡḣḥḧḩḫḭḯḱḳḵḷḹḻḽḿṁṃṅṇṉṋṍṏṑṓṕṗṙṛṝṟṡṣṥṧṩṫṭṯṱṳṵṷṹṻṽṿẁẃẅẇẉẋẍẏẑẓẕßạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹỻỽỿi') else lower(reference_id collate \"C\") end)";

export const EARN_REFERENCE_HASH = `hashtextextended(action_type || chr(31) || ${FROZEN_REFERENCE_KEY}, 0)`;

export async function up(knex: Knex): Promise<void> {
  // Building these on a large ledger outlasts the interactive statement timeout; the setting
  // ends with the migration's transaction.
  if (knex.client.config.client === 'pg') await knex.raw('set local statement_timeout = 0');
  await runSql(knex, `
    create index points_transactions_earn_user_at_idx on points_transactions (user_id, created_at) where type = 'earn';
    create index points_transactions_earn_reference_idx on points_transactions ((${EARN_REFERENCE_HASH}))
      include (created_at, action_type, reference_id) where type = 'earn';
    create unique index points_transactions_daily_user_idx on points_transactions (user_id, local_date)
      include (created_at, streak_day) where type = 'daily';
    create index points_transactions_redeem_day_idx on points_transactions (local_date)
      include (user_id, id, created_at) where type = 'redeem';
    create index points_transactions_adjustment_at_idx on points_transactions (created_at) where type = 'adjustment';
    drop index points_lots_due_idx;
    create index points_lots_due_idx on points_lots (expires_at) include (user_id, id, credited_at, remaining) where remaining > 0;
    drop index fraud_cases_status_idx;
    create index fraud_cases_status_idx on fraud_cases (status);
    alter table fraud_cases set (fillfactor = 70);
  `);
}

export async function down(knex: Knex): Promise<void> {
  await runSql(knex, `
    alter table fraud_cases reset (fillfactor);
    drop index fraud_cases_status_idx;
    create index fraud_cases_status_idx on fraud_cases (status, last_seen desc, id desc);
    drop index points_lots_due_idx;
    create index points_lots_due_idx on points_lots (expires_at) where remaining > 0;
    drop index points_transactions_adjustment_at_idx;
    drop index points_transactions_redeem_day_idx;
    drop index points_transactions_daily_user_idx;
    drop index points_transactions_earn_reference_idx;
    drop index points_transactions_earn_user_at_idx;
  `);
}
