// A neighbour's contract answered by hand-written handlers, for a module tested alone. It is bound
// like the real one (the same validation of inputs and outputs, the same typed errors), so a fake
// that answers outside the contract fails the test instead of passing it.
import type { Contract, ContractHandlers } from '../contracts/define-contract.ts';
import { ContractViolation } from '../errors/domain-error.ts';
import type { ContractFake } from '../kernel/create-app.ts';

export function fake<C extends Contract>(contract: C, handlers: Partial<ContractHandlers<C>>): ContractFake {
  const complete: Record<string, unknown> = {};
  for (const op of Object.keys(contract.operations)) {
    complete[op] =
      (handlers as Record<string, unknown>)[op] ??
      (async () => {
        throw new ContractViolation(`the test's fake of ${contract.name} does not answer ${op}`);
      });
  }
  return { contract, handlers: complete as ContractHandlers<Contract> };
}
