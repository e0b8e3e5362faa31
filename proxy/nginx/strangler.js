// The strangler proxy's per-request decisions for nginx (njs), so that nginx driven by
// `npm run proxy -- export nginx` routes every user exactly as the built-in proxy does:
// the same user key (JWT subject, else the sticky cookie, else the client address), the same
// bucket (FNV-1a, then murmur3's final mix, keyed by the new pool's name), the same cookie for a
// client without one, the same reading of paths that must not be forwarded. It mirrors
// proxy/src/side-assignment.ts and proxy/src/public-paths.ts line for line; the nginx export tests
// compare the two engines' choices over many keys. Plain ES5-style JavaScript: njs 0.7 (Debian 12).

function fnv1a(text, seed) {
  var h = seed === undefined ? 0x811c9dc5 : seed;
  for (var i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

function mix(h) {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

function bucketOf(userKey, newPool) {
  return mix(fnv1a(userKey, fnv1a(newPool))) % 100;
}

function jwtSubject(authorization) {
  if (!authorization || authorization.indexOf('Bearer ') !== 0) return undefined;
  var payload = authorization.split('.')[1];
  if (!payload) return undefined;
  try {
    var sub = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')).sub;
    return typeof sub === 'string' && sub ? sub : undefined;
  } catch (e) {
    return undefined;
  }
}

function cookieValue(header, name) {
  if (!header) return undefined;
  var parts = header.split(';');
  for (var i = 0; i < parts.length; i++) {
    var eq = parts[i].indexOf('=');
    if (eq > 0 && parts[i].slice(0, eq).trim() === name) return parts[i].slice(eq + 1).trim() || undefined;
  }
  return undefined;
}

/** { key, newCookie } as stickyKey() in side-assignment.ts. */
function stickyKey(r) {
  var sub = jwtSubject(r.headersIn.Authorization);
  if (sub) return { key: 'sub:' + sub };
  var cookie = cookieValue(r.headersIn.Cookie, r.variables.strangler_cookie_name);
  if (cookie) return { key: 'cookie:' + cookie };
  var addr = r.remoteAddress;
  var value = mix(fnv1a(addr)).toString(36) + mix(fnv1a(addr, 0x9747b28c)).toString(36);
  return { key: 'cookie:' + value, newCookie: value };
}

/** The route's spec from the export: "<weight> <new pool> <old pool or ->". */
function spec(r) {
  var s = r.variables.strangler_route_spec;
  if (!s) return undefined;
  var parts = s.split(' ');
  return { weight: Number(parts[0]), newPool: parts[1], oldPool: parts[2] };
}

/** The forced side: only with the shared secret (nginx does not verify tokens), any case. */
function forced(r) {
  var secret = r.variables.strangler_override_secret;
  if (!secret || r.headersIn[r.variables.strangler_override_header + '-secret'] !== secret) return undefined;
  var v = String(r.headersIn[r.variables.strangler_override_header] || '').toLowerCase();
  return v === 'old' || v === 'new' ? v : undefined;
}

/**
 * $strangler_side_js: old or new, as decideRoute() in route-decision.ts decides. For a new client
 * on a split route it also leaves the sticky cookie to hand out in $strangler_cookie_value.
 */
function side(r) {
  var s = spec(r);
  if (!s) return 'old';
  if (s.oldPool === '-') return 'new';
  var f = forced(r);
  if (f) return f;
  if (s.weight >= 100) return 'new';
  if (s.weight <= 0) return 'old';
  var k = stickyKey(r);
  if (k.newCookie) r.variables.strangler_cookie_value = r.variables.strangler_cookie_name + '=' + k.newCookie + '; Path=/; HttpOnly; SameSite=Lax; Max-Age=31536000';
  return bucketOf(k.key, s.newPool) < s.weight ? 'new' : 'old';
}

var INTERNAL = { internal: 1, metrics: 1, admin: 1, _proxy: 1 };

function trimmed(segment) {
  var semi = segment.indexOf(';');
  return (semi < 0 ? segment : segment.slice(0, semi)).replace(/[.\s\0]+$/, '');
}

function resolveDots(segments) {
  var out = [];
  for (var i = 0; i < segments.length; i++) {
    if (segments[i] === '.') continue;
    if (segments[i] === '..') out.pop();
    else out.push(segments[i]);
  }
  return out;
}

/** $strangler_path_kind: forward, internal, malformed, probe (a known /health/*) or no-probe. */
function pathKind(r) {
  var url = r.variables.request_uri;
  var q = url.indexOf('?');
  var path = q < 0 ? url : url.slice(0, q);
  var readings = [path];
  var decoded = path;
  for (var round = 0; round < 4 && decoded.indexOf('%') >= 0; round++) {
    var next;
    try {
      next = decodeURIComponent(decoded);
    } catch (e) {
      if (round === 0) return 'malformed';
      break;
    }
    if (next === decoded) break;
    decoded = next;
    readings.push(decoded);
  }
  var health;
  for (var i = 0; i < readings.length; i++) {
    var raw = readings[i].toLowerCase().replace(/\\/g, '/').split('/').filter(function (s) {
      return s.length > 0;
    });
    var resolved = resolveDots(raw);
    if ((raw.length && INTERNAL[trimmed(raw[0])]) || (resolved.length && INTERNAL[trimmed(resolved[0])])) return 'internal';
    if (readings[i] === decoded && resolved[0] === 'health') health = resolved;
  }
  if (!health) return 'forward';
  return health.length === 2 && (health[1] === 'live' || health[1] === 'ready' || health[1] === 'started') ? 'probe' : 'no-probe';
}

export default { side: side, pathKind: pathKind };
