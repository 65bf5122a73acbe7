import type { Command } from 'commander';
import { registerPartnerImport } from './import.js';
import { registerPartnerList } from './list.js';

export function registerPartner(program: Command): void {
  const partner = program.command('partner').description('import and list reward partners');
  registerPartnerImport(partner);
  registerPartnerList(partner);
}
