// replayvault browser tracker: consent-gated rrweb recording.
//
//   replayvault.init({endpoint, writeKey, projectId?, maskTextClass?, blockClass?})
//   replayvault.consent.grant() / .revoke() / .state()  -> 'granted'|'revoked'|'pending'
//   replayvault.identify(id)   link the recording to a data subject (pseudonymous id, 1-128 of
//                              A-Z a-z 0-9 . _ : -; anything else is ignored -> false); sent with
//                              every batch as `subject`. Once an id is set, another id (or null)
//                              while recording ends the session and starts a new one: a session
//                              belongs to one subject.
//   replayvault.track(name)    record a named event (rv.event {name}) while recording -> boolean;
//                              name must match ^[A-Za-z0-9_.:-]{1,64}$, anything else is ignored
//   replayvault.flush()        -> Promise<boolean> (true when every batch was accepted)
//   replayvault.sessionId()    -> current session id or null
//   replayvault.stats()        -> {recording, buffered, pending, nextSeq, identified}
//
// Privacy rules: nothing is observed, buffered or sent before consent.grant();
// the decision lives in localStorage so a granted visitor stays recorded across
// pages of the site; the session id and next seq live in sessionStorage (per tab).

import { get, set, uuid } from './storage.js';
import { createTransport } from './transport.js';
import { startRecording, trackEvent } from './recorder.js';

const VERSION = '0.1.0';
let cfg = null; // normalized init options
let keys = null; // storage key names (namespaced by projectId)
let transport = null;
let stop = null; // stop function while recording, else null
let identity = null;
const windowId = uuid(); // one per page load (document)
const SUBJECT = /^[A-Za-z0-9._:-]{1,128}$/; // the collector's rule for `subject`

function storageKeys(projectId) {
  const p = `replayvault.${projectId ? `${projectId}.` : ''}`;
  return {
    consent: `${p}consent`, session: `${p}session_id`, seq: `${p}next_seq`, sent: `${p}consent_sent`,
    owner: `${p}owner`,
  };
}

// A duplicated tab starts with a copy of the original tab's sessionStorage, hence the same
// session id and next seq: both tabs would send the same (session, seq) and the collector would
// keep only the first. Each document claims the session with its window id and releases it on
// pagehide; a document that finds the session still claimed by another one is a duplicate (or
// follows a crash) and starts a new session.
function claimSession() {
  const owner = get('sessionStorage', keys.owner);
  if (owner && owner !== windowId) {
    set('sessionStorage', keys.session, null);
    set('sessionStorage', keys.seq, null);
    set('sessionStorage', keys.sent, null);
  }
  set('sessionStorage', keys.owner, windowId);
}

function releaseSession() {
  if (keys && get('sessionStorage', keys.owner) === windowId) set('sessionStorage', keys.owner, null);
}

function sessionId(create) {
  let id = get('sessionStorage', keys.session);
  if (!id && create) {
    id = uuid();
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

// Resolves true when the collector stored the consent decision (never rejects).
function postConsent(state, sid) {
  return fetch(`${cfg.endpoint}/api/v1/consent`, {
    method: 'POST',
    keepalive: true,
    credentials: 'omit',
    headers: { 'Content-Type': 'application/json', 'X-Replayvault-Key': cfg.writeKey },
    body: JSON.stringify({ session_id: sid, state }),
  }).then(
    (res) => res.ok,
    () => false,
  );
}

// The page may be going away (navigation, tab close, app switch on mobile):
// hand the buffer to sendBeacon, which survives the unload.
function onPageHide() {
  if (transport) transport.beacon();
}

function onVisibility() {
  if (document.visibilityState === 'hidden') onPageHide();
}

// Another tab of the site revoked consent: stop here as well.
function onStorage(e) {
  if (e.key === keys.consent && e.newValue !== 'granted') halt();
}

function start() {
  if (stop || !cfg) return;
  claimSession(); // only after consent: nothing is stored on the device before it
  const sid = sessionId(true);
  let ready = Promise.resolve();
  if (get('sessionStorage', keys.sent) !== sid) {
    // Record the consent receipt once per session (a new tab is a new session);
    // batches wait for it so the collector never sees events before consent.
    ready = postConsent('granted', sid).then((ok) => ok && set('sessionStorage', keys.sent, sid));
  }
  transport = createTransport({
    ready,
    url: `${cfg.endpoint}/api/v1/ingest`,
    writeKey: cfg.writeKey,
    ids: () => ({ session_id: sessionId(true), window_id: windowId, ...(identity ? { subject: identity } : {}) }),
    nextSeq,
    onRejected: (status) => status === 409 && halt(), // server-side revoke
  });
  const stopRec = startRecording(cfg, (ev) => transport && transport.push(ev));
  window.addEventListener('pagehide', onPageHide);
  document.addEventListener('visibilitychange', onVisibility);
  window.addEventListener('storage', onStorage);
  transport.start();
  stop = () => {
    stopRec();
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
  if (old) old.close(); // cuts the buffer now, still under the old subject and session
  identity = next;
  set('sessionStorage', keys.session, null);
  set('sessionStorage', keys.seq, null);
  set('sessionStorage', keys.sent, null);
  start();
}

// Stop every listener and forget unsent events.
function halt() {
  if (stop) stop();
  stop = null;
  if (transport) transport.drop();
  transport = null;
}

const consent = {
  /** Record consent and start recording (persisted for the whole site). */
  grant() {
    set('localStorage', keys.consent, 'granted');
    start();
  },
  /** Stop recording, drop unsent events and tell the collector. */
  revoke() {
    halt();
    set('localStorage', keys.consent, 'revoked');
    const sid = sessionId(true);
    postConsent('revoked', sid);
    // The collector refuses this session from now on; a later grant starts a new one.
    set('sessionStorage', keys.session, null);
    set('sessionStorage', keys.seq, null);
    set('sessionStorage', keys.sent, null);
  },
  /** 'granted', 'revoked' or 'pending' (no decision yet). */
  state() {
    const s = keys && get('localStorage', keys.consent);
    return s === 'granted' || s === 'revoked' ? s : 'pending';
  },
};

/**
 * Configure the tracker. Starts recording at once only if this visitor
 * granted consent earlier (stored decision); otherwise waits for grant().
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
  };
  keys = storageKeys(cfg.projectId);
  if (consent.state() === 'granted') start();
}

const api = {
  version: VERSION,
  init,
  consent: {
    grant: () => (keys ? consent.grant() : undefined),
    revoke: () => (keys ? consent.revoke() : undefined),
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
  window.addEventListener('pageshow', (e) => e.persisted && stop && claimSession());
  const d = (document.currentScript || {}).dataset;
  if (d && d.endpoint && d.writeKey) {
    init({
      endpoint: d.endpoint,
      writeKey: d.writeKey,
      projectId: d.projectId,
      maskTextClass: d.maskTextClass,
      blockClass: d.blockClass,
    });
  }
}

install();
