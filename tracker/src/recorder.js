// rrweb recording with replayvault's privacy options and the custom events
// analytics relies on:
//   rv.click  {id, x, y, w, h, fixed?}  mirror id of the clicked element, click
//                              offset inside its box and the box size (CSS px), for
//                              element-anchored heatmaps; fixed: 1 when the element
//                              or an ancestor is position: fixed or sticky
//   rv.page   {scrollHeight, scrollWidth}  document size (CSS px) after each full
//                              snapshot, on load, on resize and after a route change,
//                              for scroll maps
//   rv.route  {href}           location.href after an SPA route change (pushState,
//                              replaceState, popstate, hashchange) that changed it
//   rv.submit {id}             mirror id of a submitted form (capture phase)
//   rv.event  {name}           replayvault.track(name), name ^[A-Za-z0-9_.:-]{1,64}$

import { record } from 'rrweb';

// Never captured: password and hidden inputs (tokens, account or card ids). Their input events
// are ignored and their value is recorded as '' (not even its length); other inputs become '*'.
const NEVER_CAPTURED = 'input[type=password], input[type=hidden], [data-rr-is-password]';

function maskInput(text, element) {
  try {
    if (element && element.matches && element.matches(NEVER_CAPTURED)) return '';
  } catch (_) {
    /* detached or exotic element: fall through to the length-keeping mask */
  }
  return '*'.repeat(text.length);
}
const MASK_ALL_INPUTS = {
  color: true, date: true, 'datetime-local': true, email: true, month: true, number: true, range: true,
  search: true, tel: true, text: true, time: true, url: true, week: true, textarea: true, select: true,
  password: true, hidden: true,
};

// Emit one custom event; false when rrweb is not recording (before DOMContentLoaded, after stop).
function safeCustom(tag, payload) {
  try {
    record.addCustomEvent(tag, payload);
    return true;
  } catch (_) {
    return false;
  }
}

const EVENT_NAME = /^[A-Za-z0-9_.:-]{1,64}$/;
// A route change's new content usually renders within a frame or two; measure after it.
const ROUTE_SETTLE_MS = 300;

function pageSize() {
  const d = document.documentElement;
  const b = document.body || d;
  safeCustom('rv.page', {
    scrollHeight: Math.max(d.scrollHeight, b.scrollHeight),
    scrollWidth: Math.max(d.scrollWidth, b.scrollWidth),
  });
}

// Nearest element that rrweb serialized (blocked subtrees have no mirror id).
function anchor(el) {
  for (let n = el; n && n.nodeType === 1; n = n.parentElement) {
    const id = record.mirror.getId(n);
    if (id > 0) return { n, id };
  }
  return null;
}

// True when el or an ancestor (across shadow roots) is position: fixed or sticky: such
// elements stay put in the viewport while the document scrolls.
function inFixed(el) {
  for (let n = el; n && n.nodeType === 1; n = n.parentElement || (n.getRootNode && n.getRootNode().host)) {
    const pos = getComputedStyle(n).position;
    if (pos === 'fixed' || pos === 'sticky') return true;
  }
  return false;
}

function onClick(e) {
  const target = (e.composedPath && e.composedPath()[0]) || e.target;
  const a = target && anchor(target);
  if (!a) return;
  const r = a.n.getBoundingClientRect();
  const payload = {
    id: a.id,
    x: Math.round(e.clientX - r.left),
    y: Math.round(e.clientY - r.top),
    w: Math.round(r.width),
    h: Math.round(r.height),
  };
  if (inFixed(a.n)) payload.fixed = 1;
  safeCustom('rv.click', payload);
}

function onSubmit(e) {
  const id = e.target && e.target.nodeType === 1 ? record.mirror.getId(e.target) : -1;
  if (id > 0) safeCustom('rv.submit', { id });
}

/**
 * Record a named business event (e.g. 'transfer.confirmed') as `rv.event {name}`.
 * @param {string} name  must match ^[A-Za-z0-9_.:-]{1,64}$ (anything else is ignored)
 * @returns {boolean} true when the event was recorded
 */
export function trackEvent(name) {
  return typeof name === 'string' && EVENT_NAME.test(name) && safeCustom('rv.event', { name });
}

// SPA route changes: wrap history.pushState/replaceState (calling through unchanged) and listen
// to popstate/hashchange; emit rv.route when location.href changed. Returns the undo function,
// which puts back only our own wrappers (a wrapper another script added on top stays, and ours
// then just calls through).
function watchRoutes(onRoute) {
  let last = location.href;
  let live = true;
  const check = () => {
    if (!live || location.href === last) return;
    last = location.href;
    onRoute(last);
  };
  const wrap = (name) => {
    const original = history[name];
    if (typeof original !== 'function') return () => {};
    const wrapped = function (...args) {
      const result = original.apply(this, args);
      check();
      return result;
    };
    history[name] = wrapped;
    return () => {
      if (history[name] === wrapped) history[name] = original;
    };
  };
  const undo = [wrap('pushState'), wrap('replaceState')];
  window.addEventListener('popstate', check);
  window.addEventListener('hashchange', check);
  return () => {
    live = false;
    undo.forEach((u) => u());
    window.removeEventListener('popstate', check);
    window.removeEventListener('hashchange', check);
  };
}

/**
 * Start rrweb and the custom-event listeners.
 * @param {object} opt  {maskTextClass, blockClass}
 * @param {(event: object) => void} emit  receives every rrweb event
 * @param {(href: string) => boolean} [allowed]  capture scope: rrweb runs only while the page's URL is
 *        allowed; it stops when a route change leaves the scope and starts again (new Meta and full
 *        snapshot) when one comes back into it
 * @returns {{stop: () => void, rescope: () => void, paused: () => boolean}} stop removes every
 *        listener; rescope re-checks the current URL (after the scope changed)
 */
export function startRecording(opt, emit, allowed = () => true) {
  let resizeTimer = null;
  let routeTimer = null;
  let stopRrweb = null;
  const onResize = () => {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(pageSize, 250);
  };
  const rrwebOn = () => {
    if (stopRrweb) return;
    stopRrweb = record({
      emit(event) {
        emit(event);
        // After a full snapshot (type 2), record the page size; deferred so the
        // custom event is not emitted re-entrantly from inside rrweb's emit.
        if (event.type === 2) setTimeout(pageSize, 0);
      },
      recordAfter: 'DOMContentLoaded', // 'load' may never fire if a resource hangs
      // Every input value is masked before it leaves the browser. This is rrweb's maskAllInputs
      // list plus `hidden`: with maskAllInputs: true rrweb ignores maskInputOptions, so the list is
      // given in full. Hidden inputs are masked, not blocked: a blocked element replays as a grey box.
      maskAllInputs: false,
      maskInputOptions: MASK_ALL_INPUTS,
      maskInputFn: maskInput,
      maskTextClass: opt.maskTextClass,
      blockClass: opt.blockClass,
      ignoreSelector: NEVER_CAPTURED,
      slimDOMOptions: 'all', // drop scripts, comments and head meta noise
      // Same-origin stylesheets are inlined from the CSSOM (so replays need not
      // contact the site); cross-origin sheets stay as links: rrweb never fetches.
      inlineStylesheet: true,
      recordCanvas: false,
      collectFonts: false,
      inlineImages: false,
      recordCrossOriginIframes: false,
    }) || (() => {});
  };
  const rrwebOff = () => {
    if (!stopRrweb) return;
    stopRrweb();
    stopRrweb = null;
  };
  const rescope = () => {
    if (allowed(location.href)) rrwebOn();
    else rrwebOff();
  };
  const onRoute = (href) => {
    if (!allowed(href)) {
      rrwebOff(); // out of scope: nothing of this page is recorded
      return;
    }
    if (!stopRrweb) {
      rrwebOn(); // back in scope: rrweb starts over with a Meta event and a full snapshot
      return;
    }
    safeCustom('rv.route', { href });
    clearTimeout(routeTimer);
    routeTimer = setTimeout(pageSize, ROUTE_SETTLE_MS);
  };
  rescope();
  // Capture phase on window runs before rrweb's document-level listeners, so
  // rv.click precedes rrweb's own MouseInteraction click event.
  window.addEventListener('click', onClick, true);
  document.addEventListener('submit', onSubmit, true);
  window.addEventListener('resize', onResize);
  window.addEventListener('load', pageSize);
  const stopRoutes = watchRoutes(onRoute);
  return {
    stop() {
      window.removeEventListener('click', onClick, true);
      document.removeEventListener('submit', onSubmit, true);
      window.removeEventListener('resize', onResize);
      window.removeEventListener('load', pageSize);
      stopRoutes();
      clearTimeout(resizeTimer);
      clearTimeout(routeTimer);
      rrwebOff();
    },
    rescope,
    paused: () => !stopRrweb,
  };
}
