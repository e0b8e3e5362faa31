// Where migrations/<module>/ are found: the repository root when running from source. An image's
// bundle (scripts/extract-bundle.ts) carries the migrations of the modules it runs beside itself
// and replaces this file with one answering the bundle's own folder, so that folder can be copied
// anywhere and still migrate its store; npm start's cached build, with one answering the checkout
// it was built from.
import { resolve } from 'node:path';

export function migrationsRoot(): string {
  return resolve(import.meta.dirname, '../../..');
}
