import type { Command } from 'commander';
import { registerMigrate } from './migrate/index.js';
import { registerQuickstart } from './quickstart.js';
import { registerTerritory } from './territory/index.js';
import { registerUser } from './user/index.js';
import { registerPoints } from './points/index.js';
import { registerLedger } from './ledger/index.js';
import { registerAudit } from './audit/index.js';
import { registerServe } from './serve.js';
import { registerToken } from './token/index.js';
import { registerPartner } from './partner/index.js';
import { registerCatalog } from './catalog/index.js';
import { registerRedemption } from './redemption/index.js';
import { registerScale } from './scale/index.js';
import { registerDb } from './db/index.js';
import { registerFraud } from './fraud/index.js';
import { registerKpi } from './kpi/index.js';
import { registerDemo } from './demo/index.js';

/** Every command group, in the order `rayon --help` lists them. */
export function registerAll(program: Command): void {
  registerQuickstart(program);
  registerMigrate(program);
  registerTerritory(program);
  registerUser(program);
  registerPoints(program);
  registerLedger(program);
  registerAudit(program);
  registerServe(program);
  registerToken(program);
  registerPartner(program);
  registerCatalog(program);
  registerRedemption(program);
  registerScale(program);
  registerDb(program);
  registerFraud(program);
  registerKpi(program);
  registerDemo(program);
}
