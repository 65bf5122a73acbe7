import type { Command } from 'commander';
import { registerCatalogImport } from './import.js';
import { registerCatalogList } from './list.js';
import { registerCatalogExport } from './export.js';

export function registerCatalog(program: Command): void {
  const catalog = program.command('catalog').description('import, list and export the rewards catalog');
  registerCatalogImport(catalog);
  registerCatalogList(catalog);
  registerCatalogExport(catalog);
}
