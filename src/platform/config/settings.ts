// The whole configuration of a deployable: the platform's variables and the settings each module
// it runs declares. Both are checked in one pass, so a bad start names every problem at once,
// one line each, whichever part of the code owns the variable.
import type { Module } from '../modules/define-module.ts';
import { cleanEnv, ConfigError, describeIssues, loadConfig, type Config } from './env.ts';

export interface DeployableConfig {
  config: Config;
  /** Each hosted module's validated settings, by module name. */
  settings: Map<string, Record<string, unknown>>;
}

export function loadDeployableConfig(modules: readonly Module[], source: NodeJS.ProcessEnv = process.env): DeployableConfig {
  const problems: string[] = [];
  let config: Config | undefined;
  try {
    config = loadConfig(source);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    problems.push(...err.problems);
  }
  const settings = new Map<string, Record<string, unknown>>();
  const env = cleanEnv(source);
  for (const m of modules) {
    const parsed = m.settings.safeParse(env);
    if (parsed.success) settings.set(m.manifest.name, parsed.data);
    else problems.push(...describeIssues(parsed.error, source).map((line) => `${line} [${m.manifest.name}]`));
  }
  if (problems.length || !config) throw new ConfigError(problems);
  return { config, settings };
}

/** One module's settings from the environment (a command, a test). */
export function loadModuleSettings(module: Module, source: NodeJS.ProcessEnv = process.env): Record<string, unknown> {
  const parsed = module.settings.safeParse(cleanEnv(source));
  if (!parsed.success) throw new ConfigError(describeIssues(parsed.error, source).map((line) => `${line} [${module.manifest.name}]`));
  return parsed.data;
}
