// The summary as page sections. Each function returns fresh nodes; console.js swaps them in and
// keeps focus, open details and half-typed values across refreshes. Buttons carry what they act on
// in data attributes; console.js handles them all with one listener.
import { badge, h, idFor, ms, pct, rate, table, time } from './dom.js';
import { sideChart, weightBar } from './charts.js';
import { bodyView } from './json-view.js';

const MODULE_STATES = {
  local: ['local', 'plain', '◻'],
  migrating: ['migrating', 'warn', '⇄'],
  remote: ['remote', 'info', '➜'],
};
const READINESS = {
  ready: ['ready', 'good', '✓'],
  unready: ['not ready', 'warn', '!'],
  unreachable: ['unreachable', 'bad', '✕'],
};
const CANARY = {
  none: ['not started', 'plain', '–'],
  running: ['running', 'info', '▶'],
  paused: ['paused', 'warn', '⏸'],
  completed: ['completed', 'good', '✓'],
  'rolled-back': ['rolled back', 'bad', '↩'],
  aborted: ['aborted', 'warn', '■'],
};
const CANARY_EVENTS = {
  started: ['started', 'info', '▶'],
  advanced: ['advanced', 'info', '⏩'],
  paused: ['paused', 'warn', '⏸'],
  resumed: ['resumed', 'info', '▶'],
  completed: ['completed', 'good', '✓'],
  'rolled-back': ['rolled back', 'bad', '↩'],
  aborted: ['aborted', 'warn', '■'],
};
const BREAKER = {
  closed: ['closed', 'good', '✓'],
  'half-open': ['half-open', 'warn', '◐'],
  open: ['open', 'bad', '✕'],
  isolated: ['isolated', 'bad', '⊘'],
  unknown: ['unknown', 'plain', '?'],
};
const word = (map, key) => badge(...(map[key] ?? [String(key), 'plain', '?']));

export function renderOverview(s) {
  const proxy = s.proxy.shared
    ? `proxy process ${s.proxy.pid}; replicas share the table through Redis${s.proxy.canaryController ? `, canary run by ${s.proxy.canaryController === s.proxy.instance ? 'this process' : s.proxy.canaryController.slice(0, 8)}` : ''}`
    : `proxy process ${s.proxy.pid}`;
  const topology = s.topology.error ? `Topology: ${s.topology.error}.` : `Topology: ${s.topology.file}.`;
  return [`Served by ${proxy}. ${topology} Weight changes of more than ${s.confirmStep} points ask for a confirmation.`];
}

// ── Routes ──────────────────────────────────────────────────────────────────────────────────────

export function renderRoutes(s) {
  const rows = s.routes.map((r) => {
    const status = r.canary?.status ?? 'none';
    return h(
      'tr',
      { id: idFor('route', r.name) },
      h('th', { scope: 'row' }, r.name),
      h('td', {}, h('code', {}, r.prefix), r.methods === 'any' ? '' : ` (${r.methods.join(', ')})`),
      h('td', {}, r.old ? [h('span', { class: 'side-old' }, `old: ${r.old}`), h('br'), h('span', { class: 'side-new' }, `new: ${r.new}`)] : [h('span', { class: 'side-new' }, `only: ${r.new}`), ' (no old side)']),
      h('td', {}, weightCell(r, s.confirmStep)),
      h('td', {}, sideChart(r.traffic, 'requests', `${r.name} requests`)),
      h('td', {}, sideChart(r.traffic, 'errors', `${r.name} errors`)),
      h('td', { 'data-canary': status }, canaryCell(r, status)),
      h('td', {}, shadowCell(r)),
      h('td', {}, fallbackCell(r)),
    );
  });
  const details = s.routes.flatMap((r) => [r.canary ? canaryHistory(r) : '', r.shadowDiffs.length ? shadowPairs(r) : '']);
  return [table('Each route: its weight (share of users on the new side), each side’s traffic and errors, canary, shadow comparison and fallbacks', ['Route', 'Prefix', 'Sides', 'Weight', 'Traffic', 'Errors', 'Canary', 'Shadow', 'Fallbacks'], rows, 'The route table has no routes: everything goes to the default pool.'), ...details];
}

function weightCell(r, step) {
  if (!r.old) return h('div', { class: 'weight' }, h('strong', {}, '100 %'), ' on its only side');
  const inputId = idFor('weight', r.name);
  return h(
    'div',
    { class: 'weight' },
    h('span', { class: 'figure' }, h('strong', { 'data-weight': r.weight }, `${r.weight} %`), ' of users on the new side'),
    weightBar(r.weight),
    h(
      'form',
      { class: 'weight-form', 'data-route': r.name, 'data-weight': r.weight },
      h('label', { for: inputId }, `New weight for ${r.name} (0–100)`),
      h('input', { id: inputId, name: 'weight', type: 'number', min: 0, max: 100, step: 1, required: true, inputmode: 'numeric', 'aria-describedby': idFor('weight-help', r.name) }),
      h('button', { type: 'submit', id: idFor('set-weight', r.name) }, 'Set'),
      h('span', { id: idFor('weight-help', r.name), class: 'visually-hidden' }, `A change of more than ${step} points asks for a confirmation.`),
    ),
  );
}

function canaryCell(r, status) {
  if (!r.canarySteps) return h('span', { class: 'empty' }, 'no canary steps configured');
  const c = r.canary;
  const parts = [word(CANARY, status)];
  if (c && (status === 'running' || status === 'paused')) {
    const step = r.canarySteps[c.step];
    parts.push(h('span', { class: 'figure' }, `step ${c.step + 1} of ${r.canarySteps.length} (weight ${step?.weight ?? c.weight}), ${Math.round((c.stepElapsedMs ?? 0) / 1000)} s of ${Math.round((step?.dwellMs ?? 0) / 1000)} s`));
    parts.push(h('span', { class: 'figure' }, `new side: ${c.current.new.requests} requests, ${pct(c.current.new.errorRate)} errors, p99 ${ms(c.current.new.p99Ms)}`));
  }
  const rollback = c?.history?.findLast((e) => e.event === 'rolled-back');
  if (status === 'rolled-back' && rollback) parts.push(h('p', { class: 'reason' }, h('strong', {}, 'Why: '), rollback.reason));
  const last = c?.history?.at(-1);
  if ((status === 'aborted' || status === 'paused') && last?.reason) parts.push(h('p', { class: 'reason' }, last.reason));
  const button = (action, label, cls) => h('button', { type: 'button', class: cls, id: idFor(action, r.name), 'data-action': action, 'data-route': r.name }, label);
  const actions =
    status === 'running'
      ? [button('pause-canary', 'Pause', 'quiet'), button('abort-canary', 'Abort', 'danger')]
      : status === 'paused'
        ? [button('resume-canary', 'Resume'), button('abort-canary', 'Abort', 'danger')]
        : [button('start-canary', status === 'none' ? 'Start canary' : 'Start again')];
  parts.push(h('div', { class: 'actions', role: 'group', 'aria-label': `Canary of ${r.name}` }, actions));
  return h('div', { class: 'canary' }, parts);
}

function shadowCell(r) {
  if (!r.shadow) return h('span', { class: 'empty' }, 'off');
  const s = r.shadow;
  const tone = s.matchRate === null ? 'plain' : s.matchRate >= 0.99 ? 'good' : s.matchRate >= 0.9 ? 'warn' : 'bad';
  return h(
    'div',
    {},
    badge(s.matchRate === null ? 'no comparisons yet' : `${pct(s.matchRate)} match`, tone, s.matchRate === null ? '–' : s.matchRate >= 0.99 ? '=' : '≠'),
    h('br'),
    h('span', { class: 'figure' }, `${s.compared} compared, ${s.errors} errors, ${s.percent} % mirrored`),
    r.shadowDiffs.length ? [h('br'), h('a', { href: `#${idFor('shadow', r.name)}`, 'data-opens': idFor('shadow', r.name) }, `${r.shadowDiffs.length} latest differing pairs`)] : '',
  );
}

function fallbackCell(r) {
  const entries = Object.entries(r.fallbacks);
  if (!entries.length) return h('span', { class: 'empty' }, 'none');
  return h('ul', {}, entries.map(([move, n]) => h('li', { class: 'figure' }, `${move.replace('→', ' → ')}: ${n}`)));
}

function canaryHistory(r) {
  return h(
    'details',
    { id: idFor('details', r.name) },
    h('summary', {}, `Canary history of ${r.name}`),
    table(
      `Canary events of ${r.name}, oldest first`,
      ['When', 'Event', 'Weight', 'Reason', 'Step figures (old / new)'],
      r.canary.history.map((e) => [
        time(e.at),
        word(CANARY_EVENTS, e.event),
        `${e.weight} %`,
        e.reason ?? '',
        e.step ? `${e.step.old.requests} req, ${pct(e.step.old.errorRate)} err, p99 ${ms(e.step.old.p99Ms)} / ${e.step.new.requests} req, ${pct(e.step.new.errorRate)} err, p99 ${ms(e.step.new.p99Ms)}` : '',
      ]),
    ),
  );
}

function shadowPairs(r) {
  return h(
    'details',
    { id: idFor('shadow', r.name) },
    h('summary', {}, `Latest differing answers of ${r.name} (shadow comparison)`),
    r.shadowDiffs.map((d, i) =>
      h(
        'section',
        { 'aria-label': `Differing pair ${i + 1} of ${r.name}` },
        h('p', {}, time(d.at), ' ', h('code', {}, `${d.method} ${d.url}`), ` — ${d.reason}`, d.differing.paths.length && d.differing.paths[0] !== '' ? `; fields: ${d.differing.paths.join(', ')}` : ''),
        h(
          'div',
          { class: 'pair' },
          h('figure', {}, h('figcaption', {}, `Served (${d.primary.side} side), status `, d.differing.status ? h('mark', {}, String(d.primary.status)) : String(d.primary.status)), bodyView(d.primary.body, d.differing)),
          h('figure', {}, h('figcaption', {}, `Shadow (${d.shadow.side} side), status `, d.differing.status ? h('mark', {}, String(d.shadow.status)) : String(d.shadow.status)), bodyView(d.shadow.body, d.differing)),
        ),
      ),
    ),
  );
}

// ── Modules ─────────────────────────────────────────────────────────────────────────────────────

export function renderModules(s) {
  const rows = s.modules.map((m) =>
    h(
      'tr',
      { id: idFor('module', m.name), 'data-module': m.name },
      h('th', { scope: 'row' }, m.name),
      h('td', { 'data-state': m.state }, word(MODULE_STATES, m.state), m.notes.map((n) => h('p', { class: 'note' }, n))),
      h('td', {}, instancesCell(m)),
      h('td', {}, callsCell(m.received, 'from', m.breakers)),
      h('td', {}, m.made.length ? callsCell(m.made, 'to') : h('span', { class: 'empty' }, m.state === 'local' ? 'see the monolith under Deployables' : 'none yet')),
      h('td', {}, m.outbox.length ? h('ul', {}, m.outbox.map((o) => h('li', { class: 'figure' }, `${o.backlog} waiting`, h('span', { class: 'visually-hidden' }, ` at ${o.instance}`)))) : '—'),
      h('td', {}, deadLettersCell(m)),
    ),
  );
  return table('Each module: where it runs, its instances, the contract calls it receives and makes, its outbox and dead letters', ['Module', 'State', 'Instances', 'Calls received', 'Calls made', 'Outbox', 'Dead letters'], rows, 'No modules found: set TOPOLOGY_FILE for the proxy, and check the monolith answers on its internal port.');
}

function instancesCell(m) {
  const items = m.instances.map((i) =>
    h(
      'li',
      { 'data-instance': i.url },
      `${i.deployable ?? i.role} `,
      h('code', {}, i.url),
      ' ',
      word(READINESS, i.readiness.status),
      i.readiness.status === 'unreachable' ? ` (${i.readiness.detail})` : '',
      i.runsIt === false ? h('span', { class: 'note' }, ` does not run ${m.name}`) : '',
    ),
  );
  if (m.pool) items.push(h('li', {}, `proxy pool ${m.pool.name}: ${m.pool.inRotation} of ${m.pool.total} in rotation`));
  return items.length ? h('ul', {}, items) : h('span', { class: 'empty' }, 'no instances in the topology');
}

function callsCell(calls, direction, breakers = []) {
  if (!calls.length && !breakers.length) return h('span', { class: 'empty' }, 'none yet');
  return h(
    'ul',
    {},
    calls.map((c) =>
      h(
        'li',
        { class: 'figure' },
        h('code', {}, `${c.contract}.${c.operation}`),
        ` ${direction === 'from' ? 'from' : 'by'} ${c.caller} (${c.binding}): `,
        c.calls
          ? `${rate(c.perSecond)}, ${pct(c.errorRate)} errors, p99 ${ms(c.p99Ms)} over the last ${c.windowSeconds} s`
          : `none in the last ${c.windowSeconds ?? '—'} s`,
        ` (${c.sinceStart} since start)`,
      ),
    ),
    breakers.map((b) => h('li', {}, `breaker at ${b.at}: `, word(BREAKER, b.state))),
  );
}

function deadLettersCell(m) {
  const d = m.deadLetters;
  if (!d.count && !d.error) return '0';
  return h(
    'div',
    {},
    h('strong', {}, `${d.count} pending`),
    d.error ? h('p', { class: 'note' }, d.error) : '',
    h(
      'ul',
      {},
      d.items.map((item) =>
        h(
          'li',
          { 'data-dead-letter': `${item.module}#${item.seq}` },
          h('code', {}, item.event),
          ` #${item.seq}, ${item.attempts} attempt(s), `,
          time(item.createdAt),
          h('br'),
          item.reason,
          ' ',
          h(
            'button',
            { type: 'button', class: 'quiet', id: idFor('replay', item.module, item.seq), 'data-action': 'replay', 'data-instance': item.instance, 'data-module': item.module, 'data-seq': item.seq, 'aria-label': `Replay dead letter ${item.seq} of ${item.module} (${item.event})` },
            'Replay',
          ),
        ),
      ),
    ),
  );
}

// ── Deployables, sagas, failures, audit ─────────────────────────────────────────────────────────

export function renderDeployables(s) {
  const rows = s.deployables.map((d) => [
    h('code', {}, d.url),
    d.deployable ?? d.role,
    [word(READINESS, d.readiness.status), d.readiness.status === 'unreachable' ? ` ${d.readiness.detail}` : ''],
    d.hosts ? d.hosts.join(', ') : h('span', { class: 'note' }, d.metricsError ?? 'metrics unreadable'),
    d.calls.length ? callsCell(d.calls, 'to') : h('span', { class: 'empty' }, 'none'),
    d.breakers.length ? h('ul', {}, d.breakers.map((b) => h('li', {}, `${b.target}: `, word(BREAKER, b.state)))) : '—',
  ]);
  return table('Every internal listener the topology names, as its own metrics and readiness describe it', ['Instance', 'Deployable', 'Readiness', 'Runs', 'Calls made', 'Breakers'], rows, 'No deployables in the topology.');
}

export function renderPools(s) {
  const rows = s.pools.flatMap((p) =>
    p.instances.map((i, n) => [
      n === 0 ? h('strong', {}, p.name) : h('span', { class: 'visually-hidden' }, p.name),
      h('code', {}, i.url),
      i.healthy ? badge('in rotation', 'good', '✓') : badge('out of rotation', 'bad', '✕'),
      h('span', { class: 'figure' }, String(i.inFlight)),
    ]),
  );
  return table('The instances the proxy forwards to (public listeners), as its health checks see them', ['Pool', 'Instance', 'Health check', 'Requests in flight'], rows, 'No pools.');
}

export function renderSagas(s) {
  const orders = s.modules.find((m) => m.name === 'orders');
  if (!orders?.parkedSagas) return h('p', { class: 'empty' }, 'No process running the order saga reports parked sagas.');
  const { total, byStep } = orders.parkedSagas;
  return h(
    'div',
    {},
    h('p', {}, h('strong', { 'data-parked': total }, `${total} parked`), ' since each process running the order saga started (a compensation was refused and waits for an operator).'),
    Object.keys(byStep).length ? h('ul', {}, Object.entries(byStep).map(([step, n]) => h('li', {}, `${step}: ${n}`))) : '',
  );
}

export function renderFailures(s) {
  const rows = s.failures.map((f) => [
    time(f.at),
    f.route,
    h('code', {}, `${f.method} ${f.path}`),
    f.failedSide ? [h('span', { class: `side-${f.failedSide}` }, f.failedSide), ` failed, ${f.side} answered`] : h('span', { class: `side-${f.side}` }, f.side ?? '—'),
    String(f.status),
    h('code', {}, f.requestId ?? '—'),
    traceCell(f.traceId, s.traceUrl),
  ]);
  return table('Requests answered 5xx, or answered by the other side after theirs failed, newest first', ['When', 'Route', 'Request', 'Side', 'Status', 'Request id', 'Trace'], rows, 'No failing requests seen.');
}

function traceCell(traceId, template) {
  if (!traceId) return '—';
  if (!template) return h('span', {}, h('code', {}, traceId), h('br'), h('span', { class: 'legend' }, 'set CONSOLE_TRACE_URL to link it'));
  return h('a', { href: template.replace('{traceId}', encodeURIComponent(traceId)), target: '_blank', rel: 'noopener noreferrer' }, 'Open the trace', h('span', { class: 'visually-hidden' }, ` ${traceId} (new tab)`));
}

export function renderAudit(s) {
  const rows = s.audit.entries.map((e) => [time(e.at), e.who, e.action, e.target, e.from ?? '', e.to ?? '', word({ applied: ['applied', 'good', '✓'], refused: ['refused', 'warn', '!'], failed: ['failed', 'bad', '✕'] }, e.outcome), e.detail ?? '']);
  return [
    h('p', { class: 'help' }, `Kept in the ${s.audit.where}.`),
    table('Every change asked of the admin API, newest first: who, what, from which value to which', ['When', 'Who', 'Action', 'Target', 'From', 'To', 'Outcome', 'Detail'], rows, 'No actions yet.'),
  ];
}
