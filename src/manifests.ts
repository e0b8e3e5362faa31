// Every module of the system, by its public surface. Each deployable knows all of them (for
// contract bindings and event routing); it loads implementations only for the modules it runs.
import { catalogManifest } from './modules/catalog/index.ts';

export const manifests = [catalogManifest];
