import { ContractViolation } from '../errors/domain-error.ts';

/**
 * What crosses a contract is what survives JSON. The in-process binding puts values through the
 * same transformation a network hop would, so a Date or a class instance that would arrive as
 * something else remotely is caught while everything still runs in one process.
 */
export function toWire(value: unknown, what: string): unknown {
  if (value === undefined) return undefined;
  try {
    return JSON.parse(JSON.stringify(value));
  } catch (err) {
    throw new ContractViolation(`${what} is not serialisable: ${(err as Error).message}`);
  }
}
