// Errors that cross a contract keep their identity: a DomainError carries a stable `code` and an
// HTTP status, so a remote binding can rebuild the same class on the caller's side (see contracts/).

export interface ErrorShape {
  code: string;
  message: string;
  status: number;
  details?: unknown;
}

export class DomainError extends Error {
  readonly code: string;
  readonly status: number;
  readonly details?: unknown;

  constructor(code: string, message: string, status: number, details?: unknown) {
    super(message);
    this.name = code;
    this.code = code;
    this.status = status;
    this.details = details;
  }

  toJSON(): ErrorShape {
    return { code: this.code, message: this.message, status: this.status, details: this.details };
  }
}

export interface DomainErrorClass<D = unknown> {
  new (message?: string, details?: D): DomainError;
  readonly code: string;
  readonly status: number;
}

/** Declares a named error type: `export const OutOfStock = defineError('OutOfStock', 409, 'Not enough stock')`. */
export function defineError<D = unknown>(code: string, status: number, defaultMessage: string): DomainErrorClass<D> {
  const cls = class extends DomainError {
    static readonly code = code;
    static readonly status = status;
    constructor(message?: string, details?: D) {
      super(code, message ?? defaultMessage, status, details);
    }
  };
  Object.defineProperty(cls, 'name', { value: code });
  return cls;
}

// The kernel's own errors: every module and binding raises these for the generic cases.
export const ValidationFailed = defineError<{ issues: FieldIssue[] }>('ValidationFailed', 400, 'The request is not valid');
export const Unauthenticated = defineError('Unauthenticated', 401, 'A valid bearer token is required');
export const Forbidden = defineError('Forbidden', 403, 'You are not allowed to do this');
export const NotFound = defineError('NotFound', 404, 'Not found');
export const Conflict = defineError('Conflict', 409, 'Conflict');
export const ServiceUnavailable = defineError('ServiceUnavailable', 503, 'A dependency is unavailable; try again later');
export const ContractViolation = defineError('ContractViolation', 500, 'A contract answered outside its schema');

export interface FieldIssue {
  path: string;
  message: string;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- details are contravariant; any error class fits here
export type AnyErrorClass = DomainErrorClass<any>;

export const kernelErrors: AnyErrorClass[] = [
  ValidationFailed,
  Unauthenticated,
  Forbidden,
  NotFound,
  Conflict,
  ServiceUnavailable,
  ContractViolation,
];
