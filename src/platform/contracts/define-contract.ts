// A contract is the only way one module asks another for something. It is data, not
// just a TypeScript interface: schemas for every operation's input and output, which operations
// are safe to retry, and the error types it may raise. The in-process and the HTTP bindings are
// both generated from it, which is why extracting a module changes configuration, not code.
import type { z } from 'zod';
import { kernelErrors, type AnyErrorClass } from '../errors/domain-error.ts';
import type { Caller } from '../context/request-context.ts';

export interface OperationSpec<I extends z.ZodType = z.ZodType, O extends z.ZodType = z.ZodType> {
  input: I;
  output: O;
  /** Safe to repeat with the same input: remote calls may retry it. */
  idempotent: boolean;
  description?: string;
}

export type Operations = Record<string, OperationSpec>;

export interface Contract<Ops extends Operations = Operations> {
  readonly name: string;
  readonly operations: Ops;
  /** Declared error types, plus the kernel's; a remote binding rebuilds these classes by code. */
  readonly errors: readonly AnyErrorClass[];
  /** The tsyringe injection token the implementation is registered under. */
  readonly token: symbol;
}

export function defineContract<Ops extends Operations>(spec: {
  name: string;
  operations: Ops;
  errors?: AnyErrorClass[];
}): Contract<Ops> {
  return {
    name: spec.name,
    operations: spec.operations,
    errors: [...kernelErrors, ...(spec.errors ?? [])],
    token: Symbol.for(`contract:${spec.name}`),
  };
}

export function operation<I extends z.ZodType, O extends z.ZodType>(spec: OperationSpec<I, O>): OperationSpec<I, O> {
  return spec;
}

/** What a caller holds: one async function per operation. */
export type ContractApi<C extends Contract> = {
  [K in keyof C['operations']]: (
    input: z.input<C['operations'][K]['input']>,
  ) => Promise<z.output<C['operations'][K]['output']>>;
};

/** Who is calling and on behalf of whom; handlers check the end user's scopes again. */
export interface CallContext {
  caller?: Caller;
  correlationId: string;
  requestId: string;
  traceparent?: string;
}

/** What a provider module implements. */
export type ContractHandlers<C extends Contract> = {
  [K in keyof C['operations']]: (
    input: z.output<C['operations'][K]['input']>,
    ctx: CallContext,
  ) => Promise<z.input<C['operations'][K]['output']>>;
};
