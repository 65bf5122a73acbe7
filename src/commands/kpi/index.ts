import type { Command } from 'commander';
import { registerKpiReport } from './report.js';

export function registerKpi(program: Command): void {
  const kpi = program.command('kpi').description("the programme's dashboard: KPIs with targets, liability, breakage, expiry forecast");
  registerKpiReport(kpi);
}
