// What an error from Postgres says about the session it came on, told by its SQLSTATE where the
// severity cannot be read: a server whose `lc_messages` is not English words the severity in its
// own language (FEHLER, ERREUR, ...), and pg hands it on as it came (the protocol's unlocalized
// copy, field V, is not kept by pg-protocol).
import pg from 'pg';
import { causeChain } from '../errors/causes.ts';

// Class 08 (connection exceptions), 57P01–57P05 (shut down, terminated, database dropped, idle
// session timeout) and 25P03 (idle in a transaction too long) end the session; 57014 (a cancelled
// statement) does not.
const SESSION_ENDING = /^(08|57P0[1-5]|25P03)/;
// And the server's own failures (XX internal error, 58 system error), which may come as FATAL or
// PANIC: nothing says the session, or what it was committing, survived them.
const SERVER_FAILURE = /^(XX|58)/;

/**
 * Whether `err` (or what caused it) is the server ending the session rather than refusing a
 * statement. pg's own "Connection terminated" has no SQLSTATE.
 */
export function sessionEnded(err: unknown): boolean {
  for (const e of causeChain(err)) {
    if (e instanceof pg.DatabaseError) return SESSION_ENDING.test(e.code ?? '');
    if (e instanceof Error && /^Connection terminated/.test(e.message)) return true;
  }
  return false;
}

/**
 * Whether `err` is the server refusing what was sent, an ERROR: nothing of the round trip's
 * implicit transaction was kept and the session goes on. FATAL, PANIC, or anything that is not the
 * server's answer (the connection lost) leaves it unknown whether a commit went through. Read
 * from the severity when it is in English, from the SQLSTATE when it is not.
 */
export function refusedByServer(err: unknown): boolean {
  if (!(err instanceof pg.DatabaseError)) return false;
  switch (err.severity) {
    case 'ERROR':
      return true;
    case 'FATAL':
    case 'PANIC':
      return false;
  }
  const code = err.code ?? '';
  return code !== '' && !SESSION_ENDING.test(code) && !SERVER_FAILURE.test(code);
}
