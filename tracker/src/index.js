// replayvault browser tracker: consent-gated rrweb recording.
//
//   replayvault.init({endpoint, writeKey, projectId?, maskTextClass?, blockClass?, bannerId?, bannerVersion?,
//                     purposes?, method?, tcf?, reportSkipped?})
//   replayvault.consent.grant(opts?)   the visitor agreed: send a receipt, record once the collector
//                                      answers with a consent token. opts: {method, purposes, bannerId,
//                                      bannerVersion} override init's ('banner' by default)
//   replayvault.consent.refuse(opts?)  the visitor declined: receipt, nothing recorded
//   replayvault.consent.revoke(opts?)  withdraw (alias withdraw()): stop every listener, drop unsent
//                                      events, receipt (opts as grant's: {method: 'api'} from code);
//                                      the collector refuses the session from then on
//   replayvault.consent.state()        'granted' | 'refused' | 'revoked' | 'pending'
//   replayvault.identify(id)   link the recording to a data subject (pseudonymous id, 1-128 of
//                              A-Z a-z 0-9 . _ : -; anything else is ignored -> false); sent with
//                              every batch as `subject`. Once an id is set, another id (or null)
//                              while recording ends the session and starts a new one: a session
//                              belongs to one subject.
//   replayvault.track(name)    record a named event (rv.event {name}) while recording -> boolean;
//                              name must match ^[A-Za-z0-9_.:-]{1,64}$, anything else is ignored
//   replayvault.flush()        -> Promise<boolean> (true when every batch was accepted)
//   replayvault.sessionId()    -> current session id or null
//   replayvault.stats()        -> {recording, paused, buffered, pending, nextSeq, identified, consent}
//
// Privacy rules:
// - nothing is observed, buffered or sent before consent, and nothing is recorded before the
//   collector stored the grant receipt and answered with a consent token (bound to the session);
// - Global Privacy Control means no recording at all (consent.state() is 'refused', grant() is
//   ignored); Do Not Track goes with every receipt and the collector decides (default: refused);
// - with an IAB TCF v2 CMP on the page (window.__tcfapi) the collector decodes its TC string and
//   decides; the CMP's later changes (withdrawal included) are followed;
// - pages outside the project's capture scope (the scope comes with the token) are not recorded:
//   recording pauses there and resumes, with a new full snapshot, on the next page in scope;
// - only the decision lives in localStorage (a refusal too: so the banner is not shown again), and
//   the session id, seq, token and capture scope in sessionStorage (per tab), written after consent.
//   A refusal or a visit that ends undecided (`skipped`, sent on leave unless reportSkipped is false)
//   is receipted under a random id held in memory only;
// - receipts are sent one after the other (a withdrawal never overtakes its grant), and rrweb starts
//   only once the grant's answer (token and capture scope) is in.

import { get, set, uuid } from './storage.js';
import { createTransport } from './transport.js';
import { startRecording, trackEvent } from './recorder.js';
import { beaconReceipt, gpcOn, inScope, renewToken, sendReceipt } from './consent.js';

const VERSION = '0.2.0';
let cfg = null; // normalized init options
let keys = null; // storage key names (namespaced by projectId)
let transport = null;
let stop = null; // stop function while recording, else null
let recording = null; // the recorder's controls while recording
let identity = null;
let pendingId = uuid(); // receipts before a session exists (kept in memory only)
let receipted = false; // a receipt was sent from this page
let tcfSeen = null; // last TC string sent
const windowId = uuid(); // one per page load (document)
const SUBJECT = /^[A-Za-z0-9._:-]{1,128}$/; // the collector's rule for `subject`
const RENEW_BEFORE_MS = 60000; // renew a token this long before it expires

function storageKeys(projectId) {
  const p = `replayvault.${projectId ? `${projectId}.` : ''}`;
  return {
    consent: `${p}consent`, session: `${p}session_id`, seq: `${p}next_seq`, token: `${p}consent_token`,
    scope: `${p}capture_scope`, tcf: `${p}tc_string`, owner: `${p}owner`,
  };
}

// A duplicated tab starts with a copy of the original tab's sessionStorage, hence the same
// session id and next seq: both tabs would send the same (session, seq) and the collector would
// keep only the first. Each document claims the session with its window id and releases it on
// pagehide; a document that finds the session still claimed by another one is a duplicate (or
// follows a crash) and starts a new session.
function claimSession() {
  const owner = get('sessionStorage', keys.owner);
  if (owner && owner !== windowId) forgetSession();
  set('sessionStorage', keys.owner, windowId);
}

function releaseSession() {
  if (keys && get('sessionStorage', keys.owner) === windowId) set('sessionStorage', keys.owner, null);
}

function forgetSession() {
  for (const k of [keys.session, keys.seq, keys.token, keys.scope, keys.tcf]) set('sessionStorage', k, null);
}

// Receipts go out one after the other, in the order of the visitor's decisions: the collector
// takes the newest arrival as the session's decision, so a withdrawal must never overtake its grant.
let receiptChain = Promise.resolve();
function queueReceipt(body) {
  const sent = receiptChain.then(() => sendReceipt(cfg, body));
  receiptChain = sent.then(() => undefined);
  return sent;
}

// The session id: the stored one, else (create) the page's pending id, which receipts sent before
// the grant already used, so the ledger shows refusal -> grant on one session.
function sessionId(create) {
  let id = get('sessionStorage', keys.session);
  if (!id && create) {
    id = pendingId;
    set('sessionStorage', keys.session, id);
    set('sessionStorage', keys.seq, 0);
  }
  return id;
}

function nextSeq() {
  const n = parseInt(get('sessionStorage', keys.seq) || '0', 10) || 0;
  set('sessionStorage', keys.seq, n + 1); // persisted before sending: survives navigation
  return n;
}

// The stored decision: {state, method, purposes, banner_id, banner_version, decided_ms}.
function decision() {
  const raw = keys && get('localStorage', keys.consent);
  if (!raw) return null;
  if (raw === 'granted') return { state: 'granted', method: 'banner', decided_ms: Date.now() }; // tracker 0.1
  if (raw === 'revoked') return { state: 'revoked' };
  try {
    const d = JSON.parse(raw);
    return d && typeof d.state === 'string' ? d : null;
  } catch (_) {
    return null;
  }
}

function remember(state, o, decidedMs) {
  set('localStorage', keys.consent, JSON.stringify({
    state, method: o.method, purposes: o.purposes, banner_id: o.banner_id, banner_version: o.banner_version,
    decided_ms: decidedMs,
  }));
}

function receiptFields(o) {
  const opts = o || {};
  return {
    method: opts.method || cfg.method,
    purposes: opts.purposes || cfg.purposes,
    banner_id: opts.bannerId || opts.banner_id || cfg.bannerId,
    banner_version: opts.bannerVersion || opts.banner_version || cfg.bannerVersion,
  };
}

// -- the consent token --------------------------------------------------------------------------------
function readToken() {
  try {
    const t = JSON.parse(get('sessionStorage', keys.token) || 'null');
    return t && t.sid === sessionId(false) ? t : null;
  } catch (_) {
    return null;
  }
}

// Tokens by session id, in memory: batches cut for a session that has just ended (a new data subject)
// still go out under their own session's token.
const tokens = {};

function tokenFor(sid) {
  const t = readToken();
  return t && t.sid === sid ? t.token : tokens[sid];
}

function keepToken(sid, json) {
  if (!json || !json.consent_token || sessionId(false) !== sid || consent.state() !== 'granted') return false;
  tokens[sid] = json.consent_token;
  set('sessionStorage', keys.token, JSON.stringify({ sid, token: json.consent_token, exp: Date.now() + (json.token_ttl_ms || 0) }));
  if (json.scope) set('sessionStorage', keys.scope, JSON.stringify({ sid, scope: json.scope }));
  return true;
}

// The capture scope the collector gave with this session's token; null until then (nothing recorded).
function readScope() {
  try {
    const s = JSON.parse(get('sessionStorage', keys.scope) || 'null');
    return s && s.sid === sessionId(false) ? s.scope : null;
  } catch (_) {
    return null;
  }
}

// Resolves true when the session holds a fresh token: the stored one, a renewed one, or a new
// grant receipt's. Resolves false when consent is gone (the caller halts).
function ensureToken() {
  const sid = sessionId(true);
  const t = readToken();
  if (t && t.exp - Date.now() > RENEW_BEFORE_MS) return Promise.resolve(true);
  const fresh = () => {
    const d = decision() || {};
    const now = Date.now();
    receipted = true;
    return queueReceipt({
      session_id: sid, decision: 'granted', ts: now, decided_ms: Math.min(d.decided_ms || now, now),
      ...receiptFields({ method: d.method, purposes: d.purposes, bannerId: d.banner_id, bannerVersion: d.banner_version }),
    }).then((r) => settle(sid, r));
  };
  if (!t) return fresh();
  return renewToken(cfg, sid, t.token).then((r) => {
    if (r.status === 200) return keepToken(sid, r.json);
    if (r.status === 409) return false; // withdrawn meanwhile
    return fresh();
  });
}

// The collector's answer to a grant receipt: keep the token (unless the visitor changed their mind or
// the session ended meanwhile), or stop (refused: GPC, DNT, TCF).
function settle(sid, r) {
  if (r.status === 200 && r.json.decision === 'granted') return keepToken(sid, r.json);
  if (r.status === 200 && consent.state() === 'granted') {
    set('localStorage', keys.consent, JSON.stringify({ state: 'refused', method: 'collector' }));
  }
  return false;
}

// The page may be going away (navigation, tab close, app switch on mobile):
// hand the buffer to sendBeacon, which survives the unload.
function onPageHide() {
  if (transport) transport.beacon();
}

// Leaving a page without a decision: a `skipped` receipt (once per page load, random id).
function onLeave() {
  if (cfg && keys && !receipted && cfg.reportSkipped && consent.state() === 'pending') {
    receipted = beaconReceipt(cfg, { session_id: pendingId, decision: 'skipped', ts: Date.now(), ...receiptFields() });
  }
}

function onVisibility() {
  if (document.visibilityState === 'hidden' && transport) transport.beacon();
}

// Another tab of the site withdrew or refused: stop here as well.
function onStorage(e) {
  if (e.key === keys.consent && consent.state() !== 'granted') halt();
}

function start() {
  if (stop || !cfg || gpcOn()) return;
  claimSession(); // only after consent: nothing is stored on the device before it
  const sid = sessionId(true);
  const ready = ensureToken().then((ok) => {
    if (!ok && sessionId(false) === sid) halt();
    return ok;
  });
  transport = createTransport({
    ready,
    url: `${cfg.endpoint}/api/v1/ingest`,
    writeKey: cfg.writeKey,
    ids: () => ({ session_id: sessionId(true), window_id: windowId, ...(identity ? { subject: identity } : {}) }),
    token: (batchSid) => tokenFor(batchSid),
    prepare: () => (sessionId(false) === sid ? ensureToken() : Promise.resolve(true)), // this session's token only
    onAnswer: (json) => keepToken(sessionId(false), json),
    nextSeq,
    onRejected: (status) => {
      if (status === 409) halt(); // withdrawn (here, in another tab, or through the CMP)
      if (status === 403) set('sessionStorage', keys.token, null); // stale token: the next send gets a new one
    },
  });
  recording = startRecording(cfg, (ev) => transport && transport.push(ev), (href) => inScope(readScope(), href));
  ready.then((ok) => ok && recording && recording.rescope()); // the scope arrives with the token
  window.addEventListener('pagehide', onPageHide);
  document.addEventListener('visibilitychange', onVisibility);
  window.addEventListener('storage', onStorage);
  transport.start();
  stop = () => {
    if (recording) recording.stop();
    recording = null;
    window.removeEventListener('pagehide', onPageHide);
    document.removeEventListener('visibilitychange', onVisibility);
    window.removeEventListener('storage', onStorage);
  };
}

// A new data subject: deliver what was recorded for the old one, then record a new session
// (with its own consent receipt and full snapshot) for the new one.
function rotate(next) {
  const old = transport;
  if (stop) stop();
  stop = null;
  transport = null;
  if (old) old.close(); // cuts the buffer now, still under the old subject, session and token
  identity = next;
  forgetSession();
  pendingId = uuid();
  start();
}

// Stop every listener and forget unsent events.
function halt() {
  if (stop) stop();
  stop = null;
  if (transport) transport.drop();
  transport = null;
}

// TCF v2 CMP on the page: its TC string goes to the collector, which decides (loaded from the
// CMP's storage, or after the visitor acted); a later change is a new receipt (a refusal stops).
function watchTcf() {
  if (!cfg.tcf || typeof window.__tcfapi !== 'function') return;
  try {
    window.__tcfapi('addEventListener', 2, (tcData, success) => {
      if (!success || !tcData || tcData.gdprApplies === false || !tcData.tcString) return;
      if (tcData.eventStatus !== 'tcloaded' && tcData.eventStatus !== 'useractioncomplete') return;
      if (tcData.tcString === tcfSeen || gpcOn()) return;
      if (tcData.eventStatus === 'tcloaded') {
        // A string the CMP stored earlier: it never overrides a refusal or withdrawal given since
        // (only the visitor's own action in the CMP can), nor repeats a receipt this session has.
        const st = consent.state();
        if (st === 'refused' || st === 'revoked') return;
        if (get('sessionStorage', keys.tcf) === tcData.tcString && get('sessionStorage', keys.session)) return;
      }
      tcfSeen = tcData.tcString;
      const sid = get('sessionStorage', keys.session) || pendingId;
      const now = Date.now();
      receipted = true;
      queueReceipt({
        session_id: sid, method: 'tcf', tc_string: tcData.tcString, ts: now, decided_ms: now, ...receiptFields({ method: 'tcf' }),
      }).then((r) => {
        if (r.status !== 200) return;
        if (r.json.decision === 'granted') {
          remember('granted', receiptFields({ method: 'tcf' }), now);
          if (!get('sessionStorage', keys.session)) sessionId(true);
          if (keepToken(sid, r.json)) set('sessionStorage', keys.tcf, tcData.tcString);
          start();
        } else {
          halt();
          set('localStorage', keys.consent, JSON.stringify({ state: 'refused', method: 'tcf' }));
          if (get('sessionStorage', keys.session) === sid) forgetSession();
          pendingId = uuid();
        }
      });
    });
  } catch (_) {
    /* a broken CMP must not break the page */
  }
}

const consent = {
  grant(o) {
    if (gpcOn()) return false;
    remember('granted', receiptFields(o), Date.now());
    start();
    return true;
  },
  refuse(o) {
    halt();
    const f = receiptFields(o);
    const now = Date.now();
    set('localStorage', keys.consent, JSON.stringify({ state: 'refused', ...f, decided_ms: now }));
    receipted = true;
    const sid = sessionId(false);
    queueReceipt({ session_id: sid || pendingId, decision: 'refused', ts: now, decided_ms: now, ...f });
    if (sid) {
      // A recorded session ends here; a later grant starts a new one.
      forgetSession();
      pendingId = uuid();
    } // else a later grant on this page records under the refused id: the ledger shows refused -> granted
    releaseSession();
    return true;
  },
  revoke(o) {
    halt();
    const now = Date.now();
    const sid = sessionId(false) || pendingId;
    delete tokens[sid];
    set('localStorage', keys.consent, JSON.stringify({ state: 'revoked', decided_ms: now }));
    receipted = true;
    queueReceipt({ session_id: sid, decision: 'withdrawn', ts: now, decided_ms: now, ...receiptFields(o) });
    // The collector refuses this session from now on; a later grant starts a new one.
    forgetSession();
    releaseSession();
    pendingId = uuid();
    return true;
  },
  state() {
    if (gpcOn()) return 'refused';
    const d = decision();
    const s = d && d.state;
    return s === 'granted' || s === 'refused' || s === 'revoked' ? s : 'pending';
  },
};

/**
 * Configure the tracker. Starts recording at once only if this visitor granted consent earlier
 * (stored decision); otherwise waits for grant() or the TCF CMP. Under Global Privacy Control a
 * refusal receipt is sent once per page load instead.
 */
function init(options) {
  const o = options || {};
  if (!o.endpoint || !o.writeKey) throw new Error('replayvault.init: endpoint and writeKey are required');
  if (stop) halt();
  cfg = {
    endpoint: String(o.endpoint).replace(/\/+$/, ''),
    writeKey: String(o.writeKey),
    projectId: o.projectId || null,
    maskTextClass: o.maskTextClass || 'rr-mask',
    blockClass: o.blockClass || 'rr-block',
    bannerId: o.bannerId ? String(o.bannerId) : '',
    bannerVersion: o.bannerVersion ? String(o.bannerVersion) : '',
    purposes: Array.isArray(o.purposes) ? o.purposes.map(String) : ['ux_research'],
    method: o.method || 'banner',
    tcf: o.tcf !== false && o.tcf !== 'false',
    reportSkipped: o.reportSkipped !== false && o.reportSkipped !== 'false',
  };
  keys = storageKeys(cfg.projectId);
  if (gpcOn()) {
    receipted = true;
    queueReceipt({ session_id: pendingId, decision: 'refused', method: 'gpc', ts: Date.now(), ...receiptFields({ method: 'gpc' }) });
    return;
  }
  if (consent.state() === 'granted') start();
  watchTcf();
}

const api = {
  version: VERSION,
  init,
  consent: {
    grant: (o) => (keys ? consent.grant(o) : undefined),
    refuse: (o) => (keys ? consent.refuse(o) : undefined),
    revoke: (o) => (keys ? consent.revoke(o) : undefined),
    withdraw: (o) => (keys ? consent.revoke(o) : undefined),
    state: () => consent.state(),
  },
  identify(id) {
    const next = id == null ? null : String(id);
    if (next !== null && !SUBJECT.test(next)) return false;
    if (stop && identity !== null && next !== identity) rotate(next);
    else identity = next;
    return true;
  },
  // Nothing is recorded before consent: track() is a no-op (false) unless recording.
  track: (name) => (stop ? trackEvent(name) : false),
  flush: () => (transport ? transport.flush() : Promise.resolve(true)),
  sessionId: () => (keys ? sessionId(false) : null),
  stats: () => ({
    recording: !!stop,
    paused: !!(recording && recording.paused()),
    consent: consent.state(),
    ...(transport ? transport.stats() : { buffered: 0, pending: 0 }),
    nextSeq: keys ? parseInt(get('sessionStorage', keys.seq) || '0', 10) : 0,
    identified: identity !== null,
  }),
};

// Auto-init from <script src=".../replayvault.js" data-endpoint=... data-write-key=...>.
// A second copy of the script on the same page leaves the first one in charge.
function install() {
  if (window.replayvault && window.replayvault.version) return;
  window.replayvault = api;
  // Once per document (init may run again): give the session back on leave, reclaim it when
  // the page returns from the back/forward cache.
  window.addEventListener('pagehide', releaseSession);
  window.addEventListener('pagehide', onLeave);
  window.addEventListener('pageshow', (e) => e.persisted && stop && claimSession());
  const d = (document.currentScript || {}).dataset;
  if (d && d.endpoint && d.writeKey) {
    init({
      endpoint: d.endpoint,
      writeKey: d.writeKey,
      projectId: d.projectId,
      maskTextClass: d.maskTextClass,
      blockClass: d.blockClass,
      bannerId: d.bannerId,
      bannerVersion: d.bannerVersion,
      purposes: d.purposes ? d.purposes.split(',').map((x) => x.trim()).filter(Boolean) : undefined,
      tcf: d.tcf,
      reportSkipped: d.reportSkipped,
    });
  }
}

install();
