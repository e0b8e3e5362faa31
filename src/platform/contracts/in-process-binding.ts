import { randomUUID } from 'node:crypto';
import type { Histogram } from 'prom-client';
import { currentContext } from '../context/request-context.ts';
import { ContractViolation } from '../errors/domain-error.ts';
import { fieldIssues, parseOrThrow } from '../errors/validation.ts';
import type { CallContext, Contract, ContractApi, ContractHandlers } from './define-contract.ts';
import { toWire } from './wire.ts';
import { currentTraceparent } from '../observability/trace-context.ts';
import { inContractSpan, startContractSpan } from '../observability/contract-span.ts';

export function callContextFromScope(): CallContext {
  const ctx = currentContext();
  const id = ctx?.requestId ?? randomUUID();
  return {
    caller: ctx?.caller,
    correlationId: ctx?.correlationId ?? id,
    requestId: id,
    traceparent: currentTraceparent(),
  };
}

/**
 * Runs one operation the way any binding must: input through JSON and its schema (a bad input
 * is the caller's ValidationFailed), the handler, then the output through JSON and its schema
 * (a bad output is the provider's ContractViolation). Used by the in-process binding and by the
 * HTTP endpoint that serves a contract to other deployables (whose input, parsed from the request
 * body, is already wire-shaped: `inputIsWire`).
 */
export async function invokeOperation<C extends Contract>(
  contract: C,
  handlers: ContractHandlers<C>,
  name: string,
  input: unknown,
  ctx: CallContext,
  o: { inputIsWire?: boolean } = {},
): Promise<unknown> {
  const spec = contract.operations[name];
  const handler = (handlers as Record<string, (i: unknown, c: CallContext) => Promise<unknown>>)[name];
  if (!spec || !handler) throw new ContractViolation(`${contract.name} has no operation ${name}`);
  const where = `${contract.name}.${name}`;
  const parsedInput = parseOrThrow(spec.input, o.inputIsWire ? input : toWire(input, `${where} input`), `${where} input`);
  const output = toWire(await handler(parsedInput, ctx), `${where} output`);
  const parsedOutput = spec.output.safeParse(output);
  if (!parsedOutput.success) {
    throw new ContractViolation(`${where} answered outside its output schema`, { issues: fieldIssues(parsedOutput.error) });
  }
  return parsedOutput.data;
}

export function bindInProcess<C extends Contract>(
  contract: C,
  handlers: ContractHandlers<C>,
  latency?: Histogram<'contract' | 'operation' | 'binding' | 'outcome'>,
): ContractApi<C> {
  const api: Record<string, (input: unknown) => Promise<unknown>> = {};
  for (const name of Object.keys(contract.operations)) {
    api[name] = async (input) => {
      const end = latency?.startTimer({ contract: contract.name, operation: name, binding: 'in-process' });
      try {
        const out = await inContractSpan(startContractSpan(contract.name, name, 'in-process'), () => invokeOperation(contract, handlers, name, input, callContextFromScope()));
        end?.({ outcome: 'ok' });
        return out;
      } catch (err) {
        end?.({ outcome: 'error' });
        throw err;
      }
    };
  }
  return api as ContractApi<C>;
}
