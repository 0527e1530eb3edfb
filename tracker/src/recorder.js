// rrweb recording with replayvault's privacy options and two custom events
// analytics relies on:
//   rv.click {id, x, y, w, h}  mirror id of the clicked element, click offset
//                              inside its box and the box size (CSS px), for
//                              element-anchored heatmaps
//   rv.page  {scrollHeight, scrollWidth}  document size (CSS px) after each
//                              full snapshot, on load and on resize, for scroll maps

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

function safeCustom(tag, payload) {
  try {
    record.addCustomEvent(tag, payload);
  } catch (_) {
    /* rrweb not started yet (before DOMContentLoaded) */
  }
}

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

function onClick(e) {
  const target = (e.composedPath && e.composedPath()[0]) || e.target;
  const a = target && anchor(target);
  if (!a) return;
  const r = a.n.getBoundingClientRect();
  safeCustom('rv.click', {
    id: a.id,
    x: Math.round(e.clientX - r.left),
    y: Math.round(e.clientY - r.top),
    w: Math.round(r.width),
    h: Math.round(r.height),
  });
}

/**
 * Start rrweb and the custom-event listeners.
 * @param {object} opt  {maskTextClass, blockClass}
 * @param {(event: object) => void} emit  receives every rrweb event
 * @returns {() => void} stop function removing every listener
 */
export function startRecording(opt, emit) {
  let resizeTimer = null;
  const onResize = () => {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(pageSize, 250);
  };
  const stopRrweb = record({
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
  });
  // Capture phase on window runs before rrweb's document-level listeners, so
  // rv.click precedes rrweb's own MouseInteraction click event.
  window.addEventListener('click', onClick, true);
  window.addEventListener('resize', onResize);
  window.addEventListener('load', pageSize);
  return () => {
    window.removeEventListener('click', onClick, true);
    window.removeEventListener('resize', onResize);
    window.removeEventListener('load', pageSize);
    clearTimeout(resizeTimer);
    if (stopRrweb) stopRrweb();
  };
}
