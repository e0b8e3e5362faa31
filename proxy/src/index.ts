// What scripts may import from the proxy: the config format and safe, pure edits of the file.
// Deliberately light: importing it loads zod and node:fs, not the proxy's runtime.
// (The proxy imports nothing from src/; src/ imports nothing from here.)
export * from './config-schema.ts';
export { readConfig, readRawConfig, writeConfig, parseConfigText, validateConfig, ConfigError } from './config-file.ts';
export { addRoutes, removeRoutes, setWeight, finishRoutes, type ModuleRoutes } from './config-edit.ts';
