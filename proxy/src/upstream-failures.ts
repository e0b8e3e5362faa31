// How an attempt that ended in an error is read: by undici's or the socket's error code.

/** The upstream did not send its answer in time (undici's headers or body timeout). */
export const TIMEOUT_CODES: ReadonlySet<string> = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);

/** The client went away (its response closed before the end, so the upstream request was aborted). */
export const CLIENT_GONE: ReadonlySet<string> = new Set(['UND_ERR_ABORTED', 'ERR_STREAM_PREMATURE_CLOSE', 'ERR_STREAM_DESTROYED']);

/** A request undici refuses to send as it stands (say `OPTIONS *`): the client's fault, not a side's. */
export const REFUSED_REQUEST: ReadonlySet<string> = new Set(['UND_ERR_INVALID_ARG', 'UND_ERR_NOT_SUPPORTED']);

// Errors that say the instance is not there (as opposed to a slow or reset answer): they count
// towards taking it out of rotation, like a failed health probe.
const CONNECT_ERRORS: ReadonlySet<string> = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN', 'UND_ERR_CONNECT_TIMEOUT']);

export const isConnectError = (err: NodeJS.ErrnoException): boolean => CONNECT_ERRORS.has(err.code ?? '');

/** 502/503/504 from an upstream mean "this side cannot answer now": a safe request tries the other side. */
export const RETRY_STATUS: ReadonlySet<number> = new Set([502, 503, 504]);

export const clientGone = (): NodeJS.ErrnoException => Object.assign(new Error('the client went away'), { code: 'ERR_STREAM_PREMATURE_CLOSE' });
