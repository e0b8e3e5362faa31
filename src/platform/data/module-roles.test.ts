import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { moduleDatabaseUrl } from './module-roles.ts';

// What pg would connect to with a URL, without connecting.
const target = (url: string) => {
  const { host, port, user, database } = new pg.Client({ connectionString: url });
  return { host, port, user, database };
};

describe('moduleDatabaseUrl', () => {
  it('keeps a Unix-socket DATABASE_URL on the socket: only the role changes', () => {
    const admin = 'postgres://postgres@localhost/shop?host=/var/run/postgresql';
    const url = moduleDatabaseUrl(admin, 'orders', { useRoles: true });
    expect(target(url)).toEqual({ host: '/var/run/postgresql', port: 5432, user: 'shop_module_orders', database: 'shop' });
  });

  it('keeps a TCP DATABASE_URL on its host and port', () => {
    const url = moduleDatabaseUrl('postgres://postgres@db.internal:6543/shop', 'orders', { useRoles: true });
    expect(target(url)).toEqual({ host: 'db.internal', port: 6543, user: 'shop_module_orders', database: 'shop' });
  });

  it('answers the admin URL itself without module roles', () => {
    const admin = 'postgres://postgres@localhost/shop?host=/var/run/postgresql';
    expect(moduleDatabaseUrl(admin, 'orders', { useRoles: false })).toBe(admin);
  });
});
