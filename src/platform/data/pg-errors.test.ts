// How an error from Postgres is read when the server words its severity in its own language
// (lc_messages): by its SQLSTATE. The English case runs against the real server in
// test/data/pg-commit-group.test.ts and pg-read-group.test.ts; no server here has a non-English
// locale, so these are the server's error messages as pg hands them on, built by hand.
import { describe, expect, it } from 'vitest';
import pg from 'pg';
import { refusedByServer, sessionEnded } from './pg-errors.ts';

function serverError(severity: string, code: string, message = 'from the server'): pg.DatabaseError {
  const err = new pg.DatabaseError(message, message.length, 'error');
  err.severity = severity;
  err.code = code;
  return err;
}

describe('an error from Postgres', () => {
  it('is a refusal when it is an ERROR, in English or, by its SQLSTATE, in another language', () => {
    expect(refusedByServer(serverError('ERROR', '23505'))).toBe(true);
    // German and French servers: a duplicate key, a deadlock, a cancelled statement.
    expect(refusedByServer(serverError('FEHLER', '23505'))).toBe(true);
    expect(refusedByServer(serverError('ERREUR', '40P01'))).toBe(true);
    expect(refusedByServer(serverError('FEHLER', '57014'))).toBe(true);
  });

  it('is no refusal when the session ended or the server failed, whatever the language', () => {
    expect(refusedByServer(serverError('FATAL', '57P01'))).toBe(false);
    expect(refusedByServer(serverError('PANIC', 'XX000'))).toBe(false);
    // A backend terminated (it may have committed while it waited for a standby), the server shut
    // down, an idle session ended, an internal or a system error: in German.
    for (const code of ['57P01', '57P02', '57P05', '25P03', '08006', 'XX000', '58030']) expect(refusedByServer(serverError('SCHWERWIEGEND', code))).toBe(false);
    // No SQLSTATE: nothing to go by.
    expect(refusedByServer(serverError('FEHLER', ''))).toBe(false);
  });

  it('is no refusal when it is not the server’s answer', () => {
    expect(refusedByServer(new Error('Connection terminated unexpectedly'))).toBe(false);
    expect(refusedByServer(undefined)).toBe(false);
  });

  it('ended the session by its SQLSTATE, or when pg lost the connection', () => {
    expect(sessionEnded(serverError('SCHWERWIEGEND', '57P01'))).toBe(true);
    expect(sessionEnded(serverError('FEHLER', '23505'))).toBe(false);
    expect(sessionEnded(new Error('wrapped', { cause: serverError('FATAL', '08006') }))).toBe(true);
    expect(sessionEnded(new Error('Connection terminated unexpectedly'))).toBe(true);
    expect(sessionEnded(new Error('something else'))).toBe(false);
  });
});
