import { ContractViolation } from '../errors/domain-error.ts';

/**
 * What crosses a contract is what survives JSON. The in-process binding puts values through the
 * same transformation a network hop would, so a Date or a class instance that would arrive as
 * something else remotely is caught while everything still runs in one process.
 */
export function toWire(value: unknown, what: string): unknown {
  const text = wireText(value, what);
  return text === undefined ? undefined : JSON.parse(text);
}

/** The JSON text of `value` (undefined for undefined), or ContractViolation when it has none. */
export function wireText(value: unknown, what: string): string | undefined {
  if (value === undefined) return undefined;
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (err) {
    throw new ContractViolation(`${what} is not serialisable: ${(err as Error).message}`);
  }
  // A function or a symbol has no JSON text at all.
  if (text === undefined) throw new ContractViolation(`${what} is not serialisable: it has no JSON form`);
  return text;
}
