// Small, exception-safe wrappers around Web Storage plus id generation.
// Storage can throw (Safari private mode, disabled cookies, quota); the tracker
// must never break the host page, so every access is guarded.

/** Read `key` from `store` (localStorage or sessionStorage); null if unavailable. */
export function get(store, key) {
  try {
    return window[store].getItem(key);
  } catch (_) {
    return null;
  }
}

/** Write (or, when value is null, remove) `key` in `store`; failures are ignored. */
export function set(store, key, value) {
  try {
    if (value === null) window[store].removeItem(key);
    else window[store].setItem(key, String(value));
  } catch (_) {
    /* storage unavailable: state lives for this page only */
  }
}

/** A random UUID v4. crypto.randomUUID needs a secure context, so fall back. */
export function uuid() {
  if (window.crypto && typeof crypto.randomUUID === 'function') {
    try {
      return crypto.randomUUID();
    } catch (_) {
      /* insecure context: fall through */
    }
  }
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40; // version 4
  b[8] = (b[8] & 0x3f) | 0x80; // RFC 4122 variant
  const h = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
