// The kernel bench's baseline: the same product lookup with nothing but express and
// better-sqlite3 (one prepared statement on the catalog's own SQLite file, read-only): no module
// system, no auth, no request context, no logging, no metrics, no validation.
// Usage: node scripts/bench/kernel-baseline.ts <port> <path to catalog.sqlite>
import express from 'express';
import Database from 'better-sqlite3';

const [port, file] = process.argv.slice(2);
if (!port || !file) {
  console.error('usage: node scripts/bench/kernel-baseline.ts <port> <catalog.sqlite>');
  process.exit(2);
}
const db = new Database(file, { readonly: true, fileMustExist: true });
db.pragma('busy_timeout = 5000');
const bySku = db.prepare('SELECT sku, name, description, price_minor, currency, version, updated_at FROM products WHERE sku = ?');

interface Row { sku: string; name: string; description: string; price_minor: number; currency: string; version: number; updated_at: number }

const app = express();
app.disable('x-powered-by');
app.get('/health/ready', (_req, res) => {
  res.json({ status: 'ok' });
});
app.get('/api/v1/products/:sku', (req, res) => {
  const row = bySku.get(req.params.sku) as Row | undefined;
  if (!row) {
    res.status(404).type('application/problem+json').json({ title: 'Not Found', status: 404 });
    return;
  }
  res.json({ sku: row.sku, name: row.name, description: row.description, priceMinor: row.price_minor, currency: row.currency, version: row.version, updatedAt: new Date(row.updated_at).toISOString() });
});
const server = app.listen(Number(port), '127.0.0.1');
server.keepAliveTimeout = 5_000;
process.on('SIGTERM', () => server.close(() => process.exit(0)));
