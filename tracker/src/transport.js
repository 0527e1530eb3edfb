// Batching and delivery of rrweb events to the collector.
//
// Events are buffered and cut into batches every FLUSH_MS or at MAX_EVENTS.
// Each batch gets the next `seq` of the session (persisted by the caller in
// sessionStorage, so a page navigation continues the count). Batches live in
// an outbox until the collector answers 2xx; network errors and 5xx are
// retried with exponential backoff (same seq, the server deduplicates by
// (session_id, seq)); 4xx are dropped. On page hide the buffer and every batch
// waiting for a retry go out through navigator.sendBeacon, which cannot set
// headers: the write key goes in `?key=` and the body is a text/plain Blob.

export const FLUSH_MS = 2000;
export const MAX_EVENTS = 100;
export const MAX_TRIES = 5;
const RETRY_BASE_MS = 1000;
// Browsers cap keepalive fetch and sendBeacon bodies at 64 KiB in flight.
const KEEPALIVE_MAX_BYTES = 60000;

/**
 * @param {object} o
 * @param {string} o.url        ingest URL (`${endpoint}/api/v1/ingest`)
 * @param {string} o.writeKey   project write key
 * @param {() => {session_id: string, window_id: string, subject?: string}} o.ids  (read when a batch is cut)
 * @param {() => number} o.nextSeq  returns and advances the session's seq
 * @param {(status: number) => void} o.onRejected  called on a 4xx answer
 * @param {Promise} o.ready  fetches wait for it (the consent receipt is posted first)
 * @param {(sessionId: string) => string|undefined} o.token  a session's consent token, read when its batch is sent
 * @param {() => Promise<boolean>} o.prepare  renews the token when it is about to expire
 * @param {(json: object) => void} o.onAnswer  receives the collector's JSON answer to an accepted batch
 *                                 (it may carry a fresh consent token)
 */
export function createTransport(o) {
  let buffer = [];
  let outbox = []; // {seq, body, tries, inflight, timer}
  let ticker = null;

  function cut() {
    if (!buffer.length) return null;
    const batch = { ...o.ids(), seq: o.nextSeq(), events: buffer };
    buffer = [];
    const entry = { seq: batch.seq, batch, tries: 0, inflight: false, timer: null };
    outbox.push(entry);
    return entry;
  }

  function done(entry) {
    clearTimeout(entry.timer);
    outbox = outbox.filter((e) => e !== entry);
  }

  // The body with the consent token as it is now (a retried batch takes the renewed token).
  function body(entry) {
    return JSON.stringify({ ...entry.batch, consent_token: o.token(entry.batch.session_id) });
  }

  // One attempt; resolves true when the collector accepted the batch.
  function send(entry) {
    clearTimeout(entry.timer);
    entry.inflight = true;
    entry.tries += 1;
    const request = () => {
      const text = body(entry);
      return {
        method: 'POST',
        body: text,
        keepalive: text.length < KEEPALIVE_MAX_BYTES,
        credentials: 'omit',
        headers: { 'Content-Type': 'application/json', 'X-Replayvault-Key': o.writeKey },
      };
    };
    return o.ready
      .then((ok) => (ok === false ? false : o.prepare()))
      .then((ok) => (ok !== false && outbox.includes(entry) ? fetch(o.url, request()) : null)) // null: dropped or no consent
      .then((res) => {
        entry.inflight = false;
        if (!res) return false;
        if (res.status >= 500) return retry(entry);
        done(entry);
        if (!res.ok) o.onRejected(res.status); // 4xx: never retried
        if (res.ok) return res.json().then((json) => { o.onAnswer(json); return true; }, () => true);
        return false;
      })
      .catch(() => {
        entry.inflight = false;
        return retry(entry);
      });
  }

  function retry(entry) {
    if (!outbox.includes(entry)) return false; // dropped meanwhile (revoke)
    if (entry.tries >= MAX_TRIES) {
      done(entry);
      return false;
    }
    const delay = RETRY_BASE_MS * 2 ** (entry.tries - 1);
    entry.timer = setTimeout(() => send(entry), delay);
    return false;
  }

  return {
    /** Queue one rrweb event; cuts a batch at MAX_EVENTS. */
    push(event) {
      buffer.push(event);
      if (buffer.length >= MAX_EVENTS) this.flush();
    },
    /** Send the buffer and every batch not in flight now; resolves true if all were accepted. */
    flush() {
      cut();
      const sends = outbox.filter((e) => !e.inflight).map(send);
      return Promise.all(sends).then((oks) => oks.every(Boolean));
    },
    /** Page is going away: hand everything not in flight to sendBeacon. */
    beacon() {
      // Cut the buffer into beacon-sized batches (a full snapshot may be large).
      const events = buffer;
      buffer = [];
      const ENVELOPE = 1500; // ids, seq and the consent token around the events
      let part = [];
      let size = ENVELOPE;
      for (const ev of events) {
        const n = JSON.stringify(ev).length;
        if (part.length && size + n > KEEPALIVE_MAX_BYTES) {
          buffer = part;
          cut();
          part = [];
          size = ENVELOPE;
        }
        part.push(ev);
        size += n;
      }
      buffer = part;
      cut();
      const url = `${o.url}?key=${encodeURIComponent(o.writeKey)}`;
      if (!o.token(o.ids().session_id)) return; // no consent token yet: the batches wait in the outbox
      for (const entry of outbox.filter((e) => !e.inflight)) {
        const blob = new Blob([body(entry)], { type: 'text/plain' });
        if (navigator.sendBeacon && navigator.sendBeacon(url, blob)) done(entry);
        else send(entry); // too big or beacon refused: keepalive fetch is the fallback
      }
    },
    start() {
      if (!ticker) ticker = setInterval(() => this.flush(), FLUSH_MS);
    },
    /** Cut the buffer now and stop the timer; batches already cut are still delivered (and retried). */
    close() {
      clearInterval(ticker);
      ticker = null;
      return this.flush();
    },
    /** Stop the timer and forget every unsent event and batch (used by revoke). */
    drop() {
      clearInterval(ticker);
      ticker = null;
      outbox.forEach((e) => clearTimeout(e.timer));
      outbox = [];
      buffer = [];
    },
    stats() {
      return { buffered: buffer.length, pending: outbox.length };
    },
  };
}
