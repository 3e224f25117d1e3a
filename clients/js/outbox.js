// The outbox: messages the application sent that the server has not acked yet, and the acked
// ones still waiting for their receipts. Memory only; it survives reconnects, not reloads.
//
// A message's state only moves forward:
//   queued -> sent (ack "stored") -> delivered (ack "delivered", or a receipt covering its seq)
//          -> read (a "read" receipt covering its seq)
//   queued -> failed (an error for its cid that a retry cannot fix)
//   failed -> queued (only when the application asks: retry(), the same frame and cid again)
// A retry re-sends the very same frame, cid included, so the server drops a duplicate and acks
// it with "duplicate":true, which counts as success.

/** @typedef {'queued'|'sent'|'delivered'|'read'|'failed'} MessageState */

/**
 * @typedef {object} OutgoingMessage
 * @property {string} cid      the client's id for the message, kept across retries
 * @property {string} to       the recipient
 * @property {string} [text]   a text message
 * @property {{name?: string, mime?: string, size: number}} [file] a file message
 * @property {MessageState} state
 * @property {number} [seq]    the conversation's seq, once acked
 * @property {string} [mid]    the server's id, once acked
 * @property {number} [ts]     the server's time, once acked
 * @property {string} [error]  the error code, when failed
 * @property {string} [reason] the server's words for the error, when failed
 * @property {boolean} [duplicate] the ack said the server already had it
 */

const RANK = { queued: 0, sent: 1, delivered: 2, read: 3, failed: 3 };

/** Errors after which the same cid is sent again (after a backoff); any other code fails. */
export const RETRIED_ERRORS = new Set(['unavailable', 'rate_limited']);

export class Outbox {
  /** @type {Map<string, {message: OutgoingMessage, frame: string|Uint8Array, bytes: number, inFlight: boolean}>} */
  #pending = new Map(); // insertion order is send order
  #bytes = 0;
  #maxCount;
  #maxBytes;
  #maxTracked;
  /** @type {Map<string, {delivered: number, read: number, messages: OutgoingMessage[]}>} */
  #peers = new Map(); // acked messages not read yet, and the peer's receipt cursors
  #tracked = 0;
  /** @type {Map<string, {message: OutgoingMessage, frame: string|Uint8Array, bytes: number, inFlight: boolean}>} */
  #failed = new Map(); // failed messages kept for retry(), oldest first, at most maxCount

  /**
   * @param {{maxCount?: number, maxBytes?: number, maxTracked?: number}} [limits]
   *   maxCount/maxBytes bound the unacked messages (default 1000, 16 MiB); maxTracked bounds
   *   acked messages kept for their receipts (default 10000, the oldest are forgotten)
   */
  constructor({ maxCount = 1000, maxBytes = 16 << 20, maxTracked = 10000 } = {}) {
    this.#maxCount = maxCount;
    this.#maxBytes = maxBytes;
    this.#maxTracked = maxTracked;
  }

  get size() { return this.#pending.size; }
  get bytes() { return this.#bytes; }

  /**
   * Queues a message. Its frame is built once by the caller and re-sent as is.
   * @throws {RangeError} when the outbox is full (count or bytes); nothing is queued then
   */
  add(message, frame, bytes) {
    if (this.#pending.size >= this.#maxCount || this.#bytes + bytes > this.#maxBytes) {
      throw new RangeError(`outbox full (${this.#pending.size} messages, ${this.#bytes} bytes)`);
    }
    this.#pending.set(message.cid, { message, frame, bytes, inFlight: false });
    this.#bytes += bytes;
  }

  /** The frames to write now, in send order: every queued message not in flight. Marks them in flight. */
  takeUnsent() {
    const frames = [];
    for (const entry of this.#pending.values()) {
      if (entry.inFlight) continue;
      entry.inFlight = true;
      frames.push(entry.frame);
    }
    return frames;
  }

  /** The connection dropped: whatever was in flight is sent again on the next one. */
  connectionLost() {
    for (const entry of this.#pending.values()) entry.inFlight = false;
  }

  /** True when cid is a message of this outbox still waiting for its ack. */
  has(cid) { return this.#pending.has(cid); }

  /**
   * Applies an ack. Returns the message whose state changed, or null (not ours, or already acked).
   * @param {{cid: string, mid: string, seq?: number, ts?: number, status: string, duplicate?: boolean}} ack
   */
  ack(ack) {
    const entry = this.#take(ack.cid);
    if (!entry) return null;
    const message = entry.message;
    Object.assign(message, { mid: ack.mid, seq: ack.seq, ts: ack.ts });
    if (ack.duplicate) message.duplicate = true;
    message.state = ack.status === 'delivered' ? 'delivered' : 'sent';
    if (message.seq !== undefined) this.#track(message);
    return message;
  }

  /**
   * Applies an error frame with a cid. Retried codes put the message back to be re-sent (same
   * cid) and return {message, retry: true}; others fail it. Null when the cid is not ours.
   */
  error(cid, code, reason) {
    const entry = this.#pending.get(cid);
    if (!entry) return null;
    if (RETRIED_ERRORS.has(code)) {
      entry.inFlight = false;
      return { message: entry.message, retry: true };
    }
    this.#take(cid);
    entry.message.state = 'failed';
    entry.message.error = code;
    if (reason !== undefined) entry.message.reason = reason;
    this.#keepFailed(entry);
    return { message: entry.message, retry: false };
  }

  /**
   * Puts a failed message back in the queue with its frame and cid unchanged (the server drops
   * it as a duplicate if it had stored it after all). False when the message is not a failed
   * one this outbox still keeps.
   * @throws {RangeError} when the outbox is full
   */
  retry(cid) {
    const entry = this.#failed.get(cid);
    if (!entry) return false;
    this.add(entry.message, entry.frame, entry.bytes);
    this.#failed.delete(cid);
    entry.message.state = 'queued';
    delete entry.message.error;
    delete entry.message.reason;
    return true;
  }

  // The failed messages a retry can re-send: as many as the queue may hold, the oldest forgotten.
  #keepFailed(entry) {
    entry.inFlight = false;
    this.#failed.set(entry.message.cid, entry);
    if (this.#failed.size > this.#maxCount) this.#failed.delete(this.#failed.keys().next().value);
  }

  /**
   * A receipt from `peer`: every message up to `seq` reached it (delivered) or was read.
   * Returns the messages whose state moved.
   * @param {string} peer
   * @param {number} seq
   * @param {'delivered'|'read'} status
   * @returns {OutgoingMessage[]}
   */
  receipt(peer, seq, status) {
    const cursors = this.#cursors(peer);
    if (status === 'read') cursors.read = Math.max(cursors.read, seq);
    cursors.delivered = Math.max(cursors.delivered, seq);
    return this.#advance(peer, cursors);
  }

  /** The highest seqs the peer has confirmed: {delivered, read}. */
  peerCursors(peer) {
    const c = this.#peers.get(peer);
    return { delivered: c?.delivered ?? 0, read: c?.read ?? 0 };
  }

  /** A new store (epoch): acked messages and receipt cursors mean nothing any more. */
  resetReceipts() {
    this.#peers.clear();
    this.#tracked = 0;
  }

  #take(cid) {
    const entry = this.#pending.get(cid);
    if (!entry) return null;
    this.#pending.delete(cid);
    this.#bytes -= entry.bytes;
    return entry;
  }

  #cursors(peer) {
    let cursors = this.#peers.get(peer);
    if (!cursors) this.#peers.set(peer, (cursors = { delivered: 0, read: 0, messages: [] }));
    return cursors;
  }

  // Keeps an acked message until it is read; a receipt that came first applies at once.
  #track(message) {
    const cursors = this.#cursors(message.to);
    cursors.messages.push(message);
    this.#tracked++;
    this.#advance(message.to, cursors);
    if (this.#tracked > this.#maxTracked) this.#forgetOldest();
  }

  #advance(peer, cursors) {
    const moved = [];
    const kept = [];
    for (const message of cursors.messages) {
      const next = message.seq <= cursors.read ? 'read' : message.seq <= cursors.delivered ? 'delivered' : null;
      if (next && RANK[next] > RANK[message.state]) {
        message.state = next;
        moved.push(message);
      }
      if (message.state === 'read') this.#tracked--;
      else kept.push(message);
    }
    cursors.messages = kept;
    return moved;
  }

  #forgetOldest() {
    for (const cursors of this.#peers.values()) {
      if (cursors.messages.length === 0) continue;
      cursors.messages.shift();
      this.#tracked--;
      return;
    }
  }
}
