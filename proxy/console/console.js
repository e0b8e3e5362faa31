// The migration console in the browser: asks for an admin token, polls the summary every two
// seconds, says when the connection is lost and when it is back, and sends the operator's actions
// through the same admin API everything else uses (which validates them, asks for a confirmation
// of large weight changes and writes the audit log).
import { api, ApiError, token } from './api.js';
import { renderAudit, renderDeployables, renderFailures, renderModules, renderOverview, renderPools, renderRoutes, renderSagas } from './render.js';

const POLL_MS = 2000;
const RETRY_MS = [1000, 2000, 3000, 5000];

const $ = (id) => document.getElementById(id);
const sections = { overview: renderOverview, routes: renderRoutes, modules: renderModules, failures: renderFailures, pools: renderPools, deployables: renderDeployables, sagas: renderSagas, audit: renderAudit };

let summary;
let lastShown = '';
let timer;
let lostSince;
let attempts = 0;
/** The operator stopped the live updates (to read a table, or with a screen reader). */
let paused = false;
/** Values typed into inputs and not sent yet, by input id: a refresh must not wipe them. */
const drafts = new Map();

// ── Signing in and out ──────────────────────────────────────────────────────────────────────────

function showSignIn(message = '') {
  clearTimeout(timer);
  $('console').hidden = true;
  $('sign-out').hidden = true;
  $('live-toggle').hidden = true;
  $('sign-in').hidden = false;
  $('token-error').textContent = message;
  setConnection('Not connected', '');
  $('banner').hidden = true;
  $('token').focus();
}

function showConsole() {
  $('sign-in').hidden = true;
  $('sign-out').hidden = false;
  $('live-toggle').hidden = false;
  $('console').hidden = false;
}

$('token-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const value = $('token').value.trim().replace(/^bearer\s+/i, '');
  if (!value) return void ($('token-error').textContent = 'Paste an admin token first.');
  token.set(value);
  $('token').value = '';
  lastShown = '';
  void poll(true);
});

// Updates that never stop would keep moving what someone is reading: they can be paused.
$('live-toggle').addEventListener('click', () => {
  paused = !paused;
  $('live-toggle').setAttribute('aria-pressed', String(paused));
  if (paused) {
    clearTimeout(timer);
    setConnection(`Paused — figures from ${new Date(summary?.generatedAt ?? Date.now()).toLocaleTimeString([], { hour12: false })}`, '');
  } else void poll();
});

$('sign-out').addEventListener('click', () => {
  token.clear();
  showSignIn('The token is forgotten.');
});

// ── Polling, and the connection banner ──────────────────────────────────────────────────────────

function setConnection(text, cls) {
  const el = $('connection');
  el.textContent = text;
  el.className = `connection ${cls}`;
}

async function poll(first = false) {
  clearTimeout(timer);
  try {
    summary = await api('summary');
    if (first) {
      showConsole();
      $('main').focus();
    }
    if (lostSince) {
      const banner = $('banner');
      banner.textContent = `Reconnected at ${new Date().toLocaleTimeString([], { hour12: false })} after ${attempts} attempt(s); the figures below are live again.`;
      banner.className = 'banner reconnected';
      banner.hidden = false;
      const shownAt = Date.now();
      setTimeout(() => {
        if (!lostSince && Date.now() - shownAt >= 9000) banner.hidden = true;
      }, 10_000);
      lostSince = undefined;
      attempts = 0;
    }
    setConnection(paused ? `Paused — figures from ${new Date(summary.generatedAt).toLocaleTimeString([], { hour12: false })}` : `Live — updated ${new Date(summary.generatedAt).toLocaleTimeString([], { hour12: false })}`, paused ? '' : 'live');
    render(summary);
    if (!paused) timer = setTimeout(poll, POLL_MS);
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) return showSignIn(`The token was refused (${err.message}). It may have expired: paste a new one.`);
    if (err instanceof ApiError && err.status === 403) return showSignIn(`This token cannot use the console: ${err.message}.`);
    // The proxy went away (a restart, a network cut) or could not answer: say so and keep trying.
    lostSince ??= new Date();
    attempts++;
    const wait = RETRY_MS[Math.min(attempts - 1, RETRY_MS.length - 1)];
    const banner = $('banner');
    banner.textContent = `Connection to the proxy lost at ${lostSince.toLocaleTimeString([], { hour12: false })} (${err.message}). Reconnecting — attempt ${attempts}, next in ${wait / 1000} s. The figures below are from before.`;
    banner.className = 'banner';
    banner.hidden = false;
    setConnection(`Offline since ${lostSince.toLocaleTimeString([], { hour12: false })}`, 'offline');
    if (first && !summary) showConsole();
    if (!paused) timer = setTimeout(poll, wait);
  }
}

/** Replaces each section's content, unless nothing changed; keeps focus, open details and drafts. */
function render(s) {
  const shown = JSON.stringify({ ...s, generatedAt: undefined });
  if (shown === lastShown) return;
  lastShown = shown;
  const active = document.activeElement;
  const activeId = active && active !== document.body ? active.id : '';
  const open = new Set([...document.querySelectorAll('details[open]')].map((d) => d.id));
  for (const [id, build] of Object.entries(sections)) $(id).replaceChildren(...[build(s)].flat());
  for (const id of open) {
    const d = document.getElementById(id);
    if (d) d.open = true;
  }
  for (const [id, value] of drafts) {
    const input = document.getElementById(id);
    if (input) input.value = value;
    else drafts.delete(id);
  }
  if (activeId) document.getElementById(activeId)?.focus();
}

document.addEventListener('input', (event) => {
  if (event.target instanceof HTMLInputElement && event.target.closest('#console')) drafts.set(event.target.id, event.target.value);
});

// ── Actions ─────────────────────────────────────────────────────────────────────────────────────

function say(text, refused = false) {
  const el = $('action-result');
  el.textContent = text;
  el.className = `action-result ${refused ? 'refused' : ''}`;
}

/** Runs an action (an API call, or `run` for several), says how it went, and refreshes. */
async function act(label, path, init, run = () => api(path, init)) {
  try {
    const answer = await run();
    if (answer === undefined) return undefined;
    say(`${label}: done.`);
    await poll();
    return answer;
  } catch (err) {
    if (err instanceof ApiError) say(`${label}: refused — ${err.message}`, true);
    else say(`${label}: the proxy could not be reached (${err.message}).`, true);
    return undefined;
  }
}

/** Asks before a large move; resolves true when the operator confirms. */
function confirmMove(route, from, to, step, why) {
  const dialog = $('confirm-dialog');
  $('confirm-text').textContent = why
    ? `Move ${route} to ${to} %? The proxy asks for a confirmation: ${why}.`
    : `Move ${route} from ${from} % to ${to} %? That shifts ${Math.abs(to - from)} points of users at once, more than the step of ${step} this proxy allows without a confirmation.`;
  $('confirm-ok').textContent = `Move ${route} to ${to} %`;
  return new Promise((resolve) => {
    const done = (answer) => {
      $('confirm-form').removeEventListener('submit', onSubmit);
      $('confirm-cancel').removeEventListener('click', onCancel);
      dialog.removeEventListener('cancel', onCancel);
      dialog.close();
      resolve(answer);
    };
    const onSubmit = (event) => {
      event.preventDefault();
      done(true);
    };
    const onCancel = (event) => {
      event.preventDefault();
      done(false);
    };
    $('confirm-form').addEventListener('submit', onSubmit);
    $('confirm-cancel').addEventListener('click', onCancel);
    dialog.addEventListener('cancel', onCancel);
    dialog.showModal();
    $('confirm-ok').focus();
  });
}

document.addEventListener('submit', async (event) => {
  const form = event.target;
  if (!(form instanceof HTMLFormElement) || !form.classList.contains('weight-form')) return;
  event.preventDefault();
  const input = form.elements.namedItem('weight');
  const route = form.dataset.route;
  const from = Number(form.dataset.weight);
  const to = Number(input.value);
  if (input.value === '' || !Number.isInteger(to) || to < 0 || to > 100) return say(`${route}: the weight is a whole number from 0 to 100.`, true);
  const step = summary?.confirmStep ?? 25;
  const path = `routes/${encodeURIComponent(route)}/weight`;
  const send = (confirm) => api(path, { method: 'PUT', body: confirm ? { weight: to, confirm: true } : { weight: to } });
  const kept = () => {
    say(`${route}: the weight stays at ${from} %.`);
    document.getElementById(input.id)?.focus();
    return undefined;
  };
  const done = await act(`${route}: weight ${from} % → ${to} %`, path, undefined, async () => {
    if (Math.abs(to - from) > step) return (await confirmMove(route, from, to, step)) ? send(true) : kept();
    try {
      return await send(false);
    } catch (err) {
      // The weight moved since the page last looked: the proxy's own judgement stands, and is asked.
      if (!(err instanceof ApiError) || err.code !== 'ConfirmationRequired') throw err;
      return (await confirmMove(route, from, to, step, err.message)) ? send(true) : kept();
    }
  });
  if (done) {
    drafts.delete(input.id);
    const again = document.getElementById(input.id);
    if (again) again.value = '';
    again?.focus();
  }
});

// A link to a folded section opens it on the way.
document.addEventListener('click', (event) => {
  const link = event.target instanceof Element ? event.target.closest('a[data-opens]') : null;
  const target = link && document.getElementById(link.dataset.opens);
  if (target) target.open = true;
});

document.addEventListener('click', async (event) => {
  const button = event.target instanceof Element ? event.target.closest('button[data-action]') : null;
  if (!button) return;
  const { action, route } = button.dataset;
  const canary = (op, label, method = 'POST') => act(`${route}: ${label}`, `routes/${encodeURIComponent(route)}/canary${op ? `/${op}` : ''}`, { method });
  button.disabled = true;
  try {
    if (action === 'start-canary') await canary('', 'canary started');
    else if (action === 'pause-canary') await canary('pause', 'canary paused');
    else if (action === 'resume-canary') await canary('resume', 'canary resumed');
    else if (action === 'abort-canary') await canary('', 'canary aborted', 'DELETE');
    else if (action === 'replay') {
      const { instance, module, seq } = button.dataset;
      const answer = await act(`dead letter ${seq} of ${module}`, 'dead-letters/replay', { method: 'POST', body: { instance, module, seq: Number(seq) } });
      if (answer) say(`Dead letter ${seq} of ${module}: replayed ${answer.replayed ?? 0} through ${instance}.`);
    }
  } finally {
    button.disabled = false;
  }
});

// ── Start ───────────────────────────────────────────────────────────────────────────────────────

if (token.get()) void poll(true);
else showSignIn();
