// Consent receipts, consent tokens and capture scope, as the collector defines them
// (replayvault.governance.consent):
//
//   POST /api/v1/consent        receipt {session_id, decision, method, ts, decided_ms, banner_id,
//                               banner_version, purposes, tc_string?, gpc, dnt}
//                               -> {decision, consent_token?, token_ttl_ms?, scope?}
//   POST /api/v1/consent/renew  {session_id, consent_token} -> {consent_token, token_ttl_ms}
//
// Browser signals: Global Privacy Control (navigator.globalPrivacyControl, https://privacycg.github.io/gpc-spec/)
// and Do Not Track (navigator.doNotTrack === '1'). GPC always means no recording; DNT is sent with
// the receipt and the collector decides (project policy consent.honour_dnt, default on).

/** 'gpc' when Global Privacy Control is on, else null. */
export function gpcOn() {
  try {
    return navigator.globalPrivacyControl === true;
  } catch (_) {
    return false;
  }
}

/** True when Do Not Track is on (any of the historical spellings). */
export function dntOn() {
  try {
    const v = navigator.doNotTrack || window.doNotTrack || navigator.msDoNotTrack;
    return v === '1' || v === 'yes';
  } catch (_) {
    return false;
  }
}

function post(url, writeKey, body) {
  return fetch(url, {
    method: 'POST',
    keepalive: true,
    credentials: 'omit',
    headers: { 'Content-Type': 'application/json', 'X-Replayvault-Key': writeKey },
    body: JSON.stringify(body),
  }).then(
    (res) => res.json().then((json) => ({ status: res.status, json }), () => ({ status: res.status, json: {} })),
    () => ({ status: 0, json: {} }),
  );
}

/**
 * Send a receipt; resolves {status, json} (status 0: network error). Never rejects.
 * @param {object} cfg  {endpoint, writeKey}
 * @param {object} receipt  the body (see the top of this file)
 */
export function sendReceipt(cfg, receipt) {
  return post(`${cfg.endpoint}/api/v1/consent`, cfg.writeKey, { gpc: gpcOn(), dnt: dntOn(), ...receipt });
}

/** A receipt through sendBeacon (the page is going away); true when the browser queued it. */
export function beaconReceipt(cfg, receipt) {
  try {
    const body = JSON.stringify({ gpc: gpcOn(), dnt: dntOn(), ...receipt });
    const url = `${cfg.endpoint}/api/v1/consent?key=${encodeURIComponent(cfg.writeKey)}`;
    return !!(navigator.sendBeacon && navigator.sendBeacon(url, new Blob([body], { type: 'text/plain' })));
  } catch (_) {
    return false;
  }
}

/** Renew a token; resolves {status, json}. */
export function renewToken(cfg, sessionId, token) {
  return post(`${cfg.endpoint}/api/v1/consent/renew`, cfg.writeKey, { session_id: sessionId, consent_token: token });
}

// URL patterns of the project's capture scope, with the collector's rules
// (replayvault.analytics._patterns, privacy.policy.CaptureScope): `*` matches any run of characters, the
// whole URL must match, a pattern starting with '/' is matched against the path only. The URL is
// normalised first as the collector does (RFC 3986 6.2.2): query and fragment dropped, scheme and host
// lower-cased, %-encoded unreserved characters decoded, runs of '/' made one, dot segments removed.
const UNRESERVED = /^[A-Za-z0-9\-._~]$/;

function removeDots(path) {
  const parts = path.split('/');
  const out = [];
  parts.forEach((seg, i) => {
    const last = i === parts.length - 1;
    if (seg === '.') {
      if (last) out.push('');
    } else if (seg === '..') {
      if (out.length > 1) out.pop();
      if (last) out.push('');
    } else out.push(seg);
  });
  return out.join('/');
}

function clean(url) {
  const u = String(url).split('#', 1)[0].split('?', 1)[0];
  const m = /^([A-Za-z][A-Za-z0-9+.-]*:)(\/\/[^/]*)?([\s\S]*)$/.exec(u);
  const scheme = m ? m[1].toLowerCase() : '';
  const authority = m ? (m[2] || '').toLowerCase() : '';
  let path = m ? m[3] : u;
  path = path.replace(/%([0-9A-Fa-f]{2})/g, (all, hex) => {
    const ch = String.fromCharCode(parseInt(hex, 16));
    return UNRESERVED.test(ch) ? ch : all;
  });
  return scheme + authority + removeDots(path.replace(/\/{2,}/g, '/'));
}

function glob(pattern, text) {
  const parts = pattern.replace(/\*{2,}/g, '*').split('*');
  if (parts.length === 1) return text === parts[0];
  const first = parts[0];
  const last = parts[parts.length - 1];
  if (first.length + last.length > text.length || !text.startsWith(first) || !text.endsWith(last)) return false;
  let pos = first.length;
  const end = text.length - last.length;
  for (const mid of parts.slice(1, -1)) {
    const found = text.indexOf(mid, pos);
    if (found < 0 || found + mid.length > end) return false;
    pos = found + mid.length;
  }
  return true;
}

function matches(pattern, url) {
  const p = String(pattern).trim().split('#', 1)[0].split('?', 1)[0]; // as the collector's _patterns._clean
  if (!p) return false;
  if (!p.startsWith('/')) return glob(p, url);
  const m = /^[A-Za-z][A-Za-z0-9+.-]*:/.exec(url);
  if (!m) return false;
  let rest = url.slice(m[0].length);
  if (rest.startsWith('//')) {
    const slash = rest.indexOf('/', 2);
    if (glob(p, slash >= 0 ? rest.slice(slash) : '')) return true;
  }
  return glob(p, rest);
}

/**
 * Whether `href` is inside the capture scope {allow: [patterns], deny: [patterns]}: deny wins,
 * an empty allow list allows every page; no scope yet (null) means not inside.
 */
export function inScope(scope, href) {
  if (!scope) return false; // not known yet (it comes with the consent token): record nothing
  const url = clean(href);
  const candidates = url.endsWith('/') ? [url] : [url, `${url}/`]; // "/payments/*" covers "/payments"
  if ((scope.deny || []).some((p) => candidates.some((u) => matches(p, u)))) return false;
  const allow = scope.allow || [];
  return !allow.length || allow.some((p) => matches(p, url));
}
