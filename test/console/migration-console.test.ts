// The migration console in a real browser, against a real split: the monolith and the payments
// service as child processes (payments migrating), and the strangler proxy started as an operator
// would (`npm run proxy`, a child process) with the console on its internal port. Each step is
// done through the page — weights, the canary, a dead-letter replay — and then checked against
// the system itself: which side the proxy really sends each user to, what the deployables really
// run, what the monolith's dead letters and the audit file really hold.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes, randomUUID } from 'node:crypto';
import { Queue } from 'bullmq';
import type { Locator, Page } from 'playwright-core';
import { startSystem, type RunningSystem } from '../support/topologies.ts';
import { freePort, startTs, waitReady, type Child } from '../support/processes.ts';
import { eventually } from '../support/eventually.ts';
import { redisUrl } from '../support/databases.ts';
import { TEST_JWT_SECRET } from '../support/keys.ts';
import { manifests } from '../../src/manifests.ts';
import { queueName } from '../../src/platform/bus/bullmq-transport.ts';
import { sideFor } from '../../proxy/src/side-assignment.ts';
import { SpanKind, startOtlpReceiver, type OtlpReceiver } from '../observability/otlp-receiver.ts';
import { launchBrowser, seriousAccessibilityFindings, type Browser } from './browser.ts';

const TRACE_URL = 'http://traces.example:16686/trace/{traceId}';

describe('the migration console, in a browser, steering a real split', () => {
  let sys: RunningSystem;
  let browser: Browser;
  let page: Page;
  let proxy: Child;
  let dir: string;
  let proxyEnv: Record<string, string>;
  let publicUrl: string;
  let consoleUrl: string;
  let users: { sub: string; token: string }[];
  /** Where the proxy exports its traces: what a trace link opens. */
  let traces: OtlpReceiver;

  const startProxyProcess = async () => {
    proxy = startTs('proxy/src/main.ts', proxyEnv);
    await waitReady(publicUrl, proxy, 60_000);
  };

  beforeAll(async () => {
    browser = await launchBrowser();
    page = browser.page;
    traces = await startOtlpReceiver();
    sys = await startSystem({ name: 'payments migrating', extracted: ['payments'] }, { state: 'migrating', proxy: false });
    dir = mkdtempSync(join(tmpdir(), 'console-test-'));
    const configPath = join(dir, 'proxy.json');
    writeFileSync(
      configPath,
      JSON.stringify(
        {
          pools: { monolith: { instances: [sys.monolithUrl] }, payments: { instances: sys.serviceUrls.payments, healthCheck: { intervalMs: 500 } } },
          routes: [
            {
              name: 'payments',
              prefix: '/api/v1/accounts',
              old: 'monolith',
              new: 'payments',
              weight: 0,
              // Every read is also sent to the other side and compared: the account's `asOf` (the
              // moment it was read) differs between the two answers, as it really does.
              shadow: { percent: 100 },
              canary: { steps: [{ weight: 50, dwellMs: 120_000 }, { weight: 100, dwellMs: 120_000 }], minRequests: 5, maxErrorRateIncrease: 0.05, p99SlackMs: 1000 },
            },
          ],
          servedByHeader: 'x-served-by',
          console: { confirmStep: 25 },
        },
        null,
        2,
      ),
    );
    const [port, internalPort] = [await freePort(), await freePort()];
    publicUrl = `http://127.0.0.1:${port}`;
    consoleUrl = `http://127.0.0.1:${internalPort}/_proxy/console`;
    proxyEnv = {
      PROXY_PORT: String(port),
      PROXY_INTERNAL_PORT: String(internalPort),
      PROXY_CONFIG: configPath,
      JWT_SECRET: TEST_JWT_SECRET,
      TOPOLOGY_FILE: sys.topologyFile,
      CONSOLE_TRACE_URL: TRACE_URL,
      DATA_DIR: dir,
      LOG_LEVEL: 'warn',
      PROXY_ACCESS_LOG: 'off',
      REDIS_URL: '',
      OTEL_EXPORTER_OTLP_ENDPOINT: traces.endpoint,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_BSP_SCHEDULE_DELAY: '100',
    };
    await startProxyProcess();
    users = await Promise.all(Array.from({ length: 40 }, async (_, i) => ({ sub: `shopper-${i}`, token: await sys.token(`shopper-${i}`) })));
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
    if (proxy && proxy.proc.exitCode === null && proxy.proc.signalCode === null) {
      proxy.proc.kill('SIGTERM');
      await proxy.exited;
    }
    await sys?.close();
    await traces?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  /** Every user asks for their account through the proxy; which side served each. */
  const shop = (traceId?: string) =>
    Promise.all(
      users.map(async (u) => {
        const res = await fetch(`${publicUrl}/api/v1/accounts/me`, { headers: { authorization: `Bearer ${u.token}`, ...(traceId ? { traceparent: `00-${traceId}-${randomBytes(8).toString('hex')}-01` } : {}) } });
        await res.arrayBuffer();
        return { sub: u.sub, status: res.status, side: res.headers.get('x-served-by') };
      }),
    );

  const text = (l: Locator) => l.innerText({ timeout: 5000 });
  const shows = (l: Locator, pattern: RegExp, what: string, timeoutMs = 20_000) => eventually(async () => pattern.test(await text(l)), what, timeoutMs, 200);
  const paymentsRoute = () => page.locator('#route--payments');
  const moduleRow = (name: string) => page.locator(`tr[data-module="${name}"]`);

  it('asks for a token, then shows every module where the system really runs it', async () => {
    await page.goto(consoleUrl);
    expect(await page.locator('#sign-in').isVisible()).toBe(true);
    // The sign-in view alone must pass the accessibility check too.
    expect(await seriousAccessibilityFindings(page)).toEqual([]);
    await page.fill('#token', await sys.token('ops', ['admin']));
    await page.keyboard.press('Enter');
    await page.locator('#modules table').waitFor({ timeout: 20_000 });
    expect(page.url()).toBe(consoleUrl); // the token never goes into the URL

    // What each process really hosts, from its own readiness checks (one store per hosted module).
    const hosts = async (internalUrl: string) =>
      Object.keys(((await (await fetch(`${internalUrl}/health/ready`)).json()) as { checks: Record<string, string> }).checks)
        .filter((c) => c.startsWith('store:'))
        .map((c) => c.slice('store:'.length))
        .sort();
    const monolithRuns = await hosts(sys.monolithInternalUrl);
    const serviceRuns = await hosts(sys.serviceInternalUrls.payments![0]!);
    expect(monolithRuns).toEqual(manifests.map((m) => m.name).sort());
    expect(serviceRuns).toEqual(['payments']);

    for (const m of manifests.map((x) => x.name)) {
      const row = moduleRow(m);
      const state = await row.locator('td[data-state]').getAttribute('data-state');
      expect(state, m).toBe(m === 'payments' ? 'migrating' : 'local');
      const instances = await row.locator('li[data-instance]').evaluateAll((els) => els.map((e) => e.getAttribute('data-instance')));
      expect(instances, m).toEqual(m === 'payments' ? [sys.monolithInternalUrl, sys.serviceInternalUrls.payments![0]] : [sys.monolithInternalUrl]);
      await shows(row, /ready/, `${m} instances ready`);
    }
    expect(await text(moduleRow('payments'))).toMatch(/payments-service/);
    // The Deployables table lists what each process runs, as the processes themselves say.
    const runs = await page.locator('#deployables tbody tr').evaluateAll((rows) => rows.map((r) => [r.children[0]!.textContent, r.children[3]!.textContent]));
    expect(Object.fromEntries(runs.map(([url, list]) => [url, list!.split(', ').sort()]))).toEqual({ [sys.monolithInternalUrl]: monolithRuns, [sys.serviceInternalUrls.payments![0]!]: serviceRuns });
  });

  it('shows the contract calls a module receives as the calling deployable counts them', async () => {
    const shopper = users[0]!.token;
    for (let i = 0; i < 3; i++) {
      const res = await fetch(`${sys.monolithUrl}/api/v1/orders`, {
        method: 'POST',
        headers: { authorization: `Bearer ${shopper}`, 'content-type': 'application/json', 'idempotency-key': randomUUID() },
        body: JSON.stringify({ items: [{ sku: 'NO-SUCH-MUG', quantity: 1 }] }),
      });
      expect(res.status).toBe(422); // the catalog refuses an unknown product: a contract call that failed
    }
    const metrics = await (await fetch(`${sys.monolithInternalUrl}/metrics`)).text();
    const counted = metrics
      .split('\n')
      .filter((l) => l.startsWith('contract_call_duration_seconds_count{') && l.includes('contract="catalog"') && l.includes('operation="priceItems"'))
      .reduce((n, l) => n + Number(l.split(' ').at(-1)), 0);
    expect(counted).toBeGreaterThanOrEqual(3);
    // Parked sagas: what the process running orders counts (none here), no more, no less.
    const parked = metrics.split('\n').filter((l) => l.startsWith('order_sagas_parked_total{')).reduce((n, l) => n + Number(l.split(' ').at(-1)), 0);
    await shows(page.locator('#sagas [data-parked]'), new RegExp(`^${parked} parked$`), 'the parked sagas');
    await shows(moduleRow('catalog'), new RegExp(`catalog\\.priceItems from monolith \\(in-process\\): [\\d.]+/s, 100\\.0 % errors, p99 [\\d.]+ ms over the last \\d+ s \\(${counted} since start\\)`), 'the failed calls to the catalog');
  });

  it('moves a weight from the page, asks before a large jump, and the proxy serves the new split', async () => {
    const weight = page.locator('#weight--payments');
    await weight.fill('10');
    await weight.press('Enter');
    await shows(paymentsRoute().locator('strong[data-weight]'), /^10 %$/, 'weight 10 on the page');
    expect(await page.locator('#confirm-dialog').isVisible()).toBe(false); // 10 points: no question asked

    // 10 → 60 is more than the step of 25: the page asks first; cancelling changes nothing.
    await page.locator('#weight--payments').fill('60');
    await page.locator('#weight--payments').press('Enter');
    await page.locator('#confirm-dialog').waitFor({ state: 'visible' });
    expect(await text(page.locator('#confirm-text'))).toMatch(/from 10 % to 60 %.*shifts 50 points/);
    await page.locator('#confirm-cancel').click();
    await shows(page.locator('#action-result'), /stays at 10 %/, 'the cancellation said');
    expect(readFileSync(proxyEnv.PROXY_CONFIG!, 'utf8')).toMatch(/"weight": 10/);

    // Again, confirmed from the keyboard: the confirm button has the focus.
    await page.locator('#weight--payments').fill('60');
    await page.locator('#weight--payments').press('Enter');
    await page.locator('#confirm-dialog').waitFor({ state: 'visible' });
    await page.keyboard.press('Enter');
    await shows(paymentsRoute().locator('strong[data-weight]'), /^60 %$/, 'weight 60 on the page');

    // The proxy now sends exactly the users whose bucket is under 60 to the service.
    const served = await shop();
    for (const s of served) expect({ sub: s.sub, status: s.status, side: s.side }).toEqual({ sub: s.sub, status: 200, side: sideFor(60, `sub:${s.sub}`, 'payments') });
    expect(new Set(served.map((s) => s.side))).toEqual(new Set(['old', 'new']));
    // And the page draws that traffic on both sides.
    await shows(paymentsRoute(), /new [1-9]\d*/, 'new-side traffic in the chart');
  });

  it('shows the shadow match rate and marks the fields that differ in both answers', async () => {
    await shows(paymentsRoute().locator('td').nth(6), /% match[\s\S]*[1-9]\d* compared/, 'the shadow figures');
    // The link beside the match rate opens the differing pairs.
    await paymentsRoute().getByRole('link', { name: /latest differing pairs/ }).click();
    const details = page.locator('#shadow--payments');
    await shows(details, /Latest differing answers of payments[\s\S]*JSON body differs; fields: asOf/, 'a differing pair');
    const pair = details.locator('.pair').first();
    // The differing field is marked in each answer, and only that one.
    for (const side of [0, 1]) {
      const marked = await pair.locator('figure').nth(side).locator('mark').allInnerTexts();
      expect(marked).toHaveLength(1);
      expect(marked[0]).toMatch(/^≠\s*differs \(asOf\):\s+"asOf": "\d{4}-\d\d-\d\dT/);
    }
    expect(await text(pair)).toMatch(/Served \((old|new) side\), status 200[\s\S]*Shadow \((new|old) side\), status 200/);
  });

  it('starts, pauses, resumes and aborts a canary from the page', async () => {
    const canary = paymentsRoute().locator('td[data-canary]');
    await page.locator('#start-canary--payments').click();
    await shows(canary, /running[\s\S]*step 1 of 2 \(weight 50\)/, 'the canary running at step 1');
    await shows(paymentsRoute().locator('strong[data-weight]'), /^50 %$/, 'the step’s weight');
    await page.locator('#pause-canary--payments').click();
    await shows(canary, /paused/, 'the canary paused');
    await page.locator('#resume-canary--payments').click();
    await shows(canary, /running/, 'the canary running again');
    await page.locator('#abort-canary--payments').click();
    await shows(canary, /aborted/, 'the canary aborted');
  });

  it('starts a canary against a failing service and shows the rollback, its reason, and the failed requests with their traces', async () => {
    await sys.kill('payments');
    await page.locator('#start-canary--payments').click();
    const canary = paymentsRoute().locator('td[data-canary]');
    await shows(canary, /running/, 'the canary running');
    const traceId = randomBytes(16).toString('hex');
    // Users on the new side find the service gone; the proxy answers them from the monolith and the
    // canary counts the failures against the new side.
    await eventually(async () => {
      await shop(traceId);
      return /rolled back/.test(await text(canary));
    }, 'the rollback', 30_000, 200);
    expect(await text(canary)).toMatch(/Why: error rate 100\.0% on the new side vs 0\.0% on the old side \(allowed \+5\.0%\)/);
    await shows(paymentsRoute().locator('strong[data-weight]'), /^0 %$/, 'weight back to 0');
    await page.locator('#details--payments').evaluate((d) => void ((d as unknown as { open: boolean }).open = true));
    await shows(page.locator('#details--payments'), /rolled back[\s\S]*error rate 100\.0%/, 'the rollback in the canary history');
    await shows(moduleRow('payments'), /unreachable/, 'the dead service shown unreachable');
    const service = sys.serviceUrls.payments![0]!.replace(/\./g, '\\.');
    await shows(page.locator('#pools'), new RegExp(`payments\\s+${service}\\s+✕\\s*out of rotation`), 'the service out of the proxy’s rotation');

    // The failed attempts are listed with a link into the trace viewer for their trace.
    const link = page.locator('#failures a', { hasText: 'Open the trace' }).first();
    await link.waitFor({ timeout: 20_000 });
    expect(await link.getAttribute('href')).toBe(TRACE_URL.replace('{traceId}', traceId));
    expect(await text(page.locator('#failures tbody tr').first())).toMatch(/new failed, old answered/);
    // The trace is there to open: the proxy exported it, the failed attempt and the fallback with it.
    await eventually(() => {
      const spans = traces.spans.filter((sp) => sp.traceId === traceId && sp.service === 'proxy');
      return spans.some((sp) => sp.kind === SpanKind.SERVER) && spans.filter((sp) => sp.kind === SpanKind.CLIENT).length >= 2;
    }, 'the proxy’s spans of the linked trace', 20_000, 100);
  });

  it('replays a dead letter through the deployable that holds it', async () => {
    // A poisoned event on the bus: notifications cannot read it, so the monolith dead-letters it.
    const queue = new Queue(queueName('notifications'), { connection: { url: redisUrl() }, prefix: sys.prefix });
    const eventId = randomUUID();
    await queue.add('OrderConfirmed.v1', { id: eventId, type: 'OrderConfirmed', version: 1, source: 'orders', occurredAt: new Date().toISOString(), correlationId: eventId, payload: { orderId: 42 } }, { jobId: eventId, attempts: 1 });
    await queue.close();
    const admin = { authorization: `Bearer ${await sys.token('ops', ['admin'])}` };
    const deadLetter = async () =>
      ((await (await fetch(`${sys.monolithInternalUrl}/admin/dead-letters?module=notifications`, { headers: admin })).json()) as { items: { seq: number; eventId: string; createdAt: string }[] }).items.find((d) => d.eventId === eventId);
    const before = await eventually(deadLetter, 'the dead letter', 20_000, 100);

    const item = page.locator(`li[data-dead-letter="notifications#${before.seq}"]`);
    await item.waitFor({ timeout: 20_000 });
    expect(await text(item)).toMatch(/OrderConfirmed\.v1[\s\S]*invalid OrderConfirmed\.v1 payload/);
    await item.getByRole('button', { name: `Replay dead letter ${before.seq} of notifications` }).click();
    await shows(page.locator('#action-result'), new RegExp(`Dead letter ${before.seq} of notifications: replayed 1 through ${sys.monolithInternalUrl.replace(/\./g, '\\.')}`), 'the replay answer');
    // The monolith really delivered it again: it failed again (the payload is still bad) and was
    // dead-lettered afresh.
    await eventually(async () => {
      const after = await deadLetter();
      return after && Date.parse(after.createdAt) > Date.parse(before.createdAt);
    }, 'the replayed event dead-lettered again', 20_000, 100);
  });

  it('writes every action to a durable audit log and shows it', async () => {
    const file = join(dir, 'proxy.audit.jsonl');
    const lines = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    const seen = lines.map((e) => `${e.who} ${e.action} ${e.target} ${e.from ?? ''}→${e.to ?? ''} ${e.outcome}`);
    expect(seen.slice(0, 2)).toEqual(['ops set-weight payments 0→10 applied', 'ops set-weight payments 10→60 applied']);
    expect(seen).toContain('ops start-canary payments none→running applied');
    expect(seen).toContain('ops pause-canary payments running→paused applied');
    expect(seen).toContain('ops resume-canary payments paused→running applied');
    expect(seen).toContain('ops abort-canary payments running→aborted applied');
    expect(seen).toContain('ops start-canary payments aborted→running applied');
    expect(seen.find((s) => s.includes('replay-dead-letter'))).toMatch(/^ops replay-dead-letter notifications#\d+ at http:\/\/127\.0\.0\.1:\d+ dead letter→replayed 1 applied$/);
    for (const e of lines) expect(Date.parse(e.at as string)).not.toBeNaN();
    // The page shows the same entries, newest first.
    await shows(page.locator('#audit tbody tr').first(), /ops\s+replay-dead-letter/, 'the newest audit entry on the page');
    expect(await page.locator('#audit tbody tr').count()).toBe(lines.length);
  });

  it('passes axe-core with no serious or critical findings, and runs under its CSP without a violation', async () => {
    // Everything unfolded: the canary history and the shadow pairs are checked too.
    for (const id of ['#details--payments', '#shadow--payments']) await page.locator(id).evaluate((d) => void ((d as unknown as { open: boolean }).open = true));
    expect(await seriousAccessibilityFindings(page)).toEqual([]);
    expect(browser.errors.filter((e) => /Content Security Policy|Refused to/i.test(e))).toEqual([]);
  });

  it('says when it loses the proxy and when it is back, and the audit log survives the restart', async () => {
    // Updates can be paused (someone reading a table, a screen reader) and resumed.
    await page.locator('#live-toggle').click();
    expect(await page.locator('#live-toggle').getAttribute('aria-pressed')).toBe('true');
    await shows(page.locator('#connection'), /^Paused/, 'updates paused');
    await page.locator('#live-toggle').click();
    await shows(page.locator('#connection'), /^Live/, 'updates resumed');
    proxy.proc.kill('SIGKILL');
    await proxy.exited;
    await shows(page.locator('#banner'), /Connection to the proxy lost/, 'the lost-connection banner');
    expect(await page.locator('#connection').innerText()).toMatch(/Offline since/);
    await startProxyProcess();
    await shows(page.locator('#banner'), /Reconnected/, 'the reconnected banner', 30_000);
    await shows(page.locator('#connection'), /Live/, 'live again');
    await shows(page.locator('#audit tbody tr').first(), /ops\s+replay-dead-letter/, 'the audit log after the restart');
  });
});
