// One conversation as the page shows it: its message nodes in order, kept while another
// conversation is on screen. Messages with a seq (a server with a store) sit in seq order, however
// they arrived (live, inbox, history pages, a resume); the rest (my messages not acked yet, every
// message of a server without a store) follow in the order they came. Touched only by the page's
// one thread (the browser's event loop).
import { dividerNode } from './render.js';

/** Key of a message without a seq: after every seq, in arrival order. */
const NO_SEQ = Number.POSITIVE_INFINITY;

export class Thread {
  /** The list items, in display order: {node, seq, order, mine, cid?, message?}. */
  #entries = [];
  #bySeq = new Map();
  #byCid = new Map();
  #arrivals = 0;
  #divider = null;
  /** Messages from the peer past this seq are under the "New messages" divider (null: none). */
  dividerAfter = null;
  /** True once the newest page was asked for; `more` while older pages remain. */
  loaded = false;
  more = false;

  /** Oldest and newest seq shown (0 when none). */
  get oldestSeq() { return this.#entries.find((e) => e.seq !== NO_SEQ)?.seq ?? 0; }
  get newestSeq() {
    for (let i = this.#entries.length - 1; i >= 0; i--) if (this.#entries[i].seq !== NO_SEQ) return this.#entries[i].seq;
    return 0;
  }

  /** Highest seq of a message from the peer (what reading the conversation covers). */
  get newestTheirs() {
    for (let i = this.#entries.length - 1; i >= 0; i--) {
      const e = this.#entries[i];
      if (!e.mine && e.seq !== NO_SEQ) return e.seq;
    }
    return 0;
  }

  /** The nodes to put in the log, divider included. */
  nodes() {
    const nodes = this.#entries.map((e) => e.node);
    const at = this.#dividerIndex();
    if (at >= 0) nodes.splice(at, 0, this.#dividerNode());
    return nodes;
  }

  has(seq) { return this.#bySeq.has(seq); }
  /** The entry of my message with this cid (sent from this page), or undefined. */
  byCid(cid) { return this.#byCid.get(cid); }
  /** My messages that have a seq: [{node, seq, message?}]. */
  mineWithSeq() { return this.#entries.filter((e) => e.mine && e.seq !== NO_SEQ); }
  /** My messages sent from this page that have no seq and did not fail: [{node, message}]. */
  pending() {
    return this.#entries.filter((e) => e.message && e.seq === NO_SEQ && e.message.state !== 'failed');
  }

  /**
   * Adds a message node; returns false when a message with that seq is already shown.
   * `message` is the library's object of a message sent from this page (its `cid` keys it).
   * `log`, when given, is the on-screen list to update in place.
   */
  add({ node, seq, mine, message }, log = null) {
    if (seq !== undefined && this.#bySeq.has(seq)) return false;
    const cid = message?.cid;
    const entry = { node, seq: seq ?? NO_SEQ, order: this.#arrivals++, mine, cid, message };
    if (seq !== undefined) this.#bySeq.set(seq, entry);
    if (cid !== undefined) this.#byCid.set(cid, entry);
    this.#insert(entry, log);
    return true;
  }

  /**
   * My message with `cid` got its seq (the ack): it moves to its place. When that seq is already
   * shown (the copy history brought after a lost ack), the copy goes and this node stays.
   */
  settle(cid, seq, log = null) {
    const entry = this.#byCid.get(cid);
    if (!entry || entry.seq === seq) return;
    const copy = this.#bySeq.get(seq);
    if (copy && copy !== entry) this.#remove(copy);
    this.#remove(entry);
    entry.seq = seq;
    this.#bySeq.set(seq, entry);
    this.#byCid.set(cid, entry);
    this.#insert(entry, log);
  }

  /** Puts a system line (someone left, an error) after everything. */
  note(node, log = null) {
    this.#insert({ node, seq: NO_SEQ, order: this.#arrivals++, mine: false }, log);
  }

  #insert(entry, log) {
    let at = this.#entries.length;
    while (at > 0 && this.#after(this.#entries[at - 1], entry)) at--;
    const next = this.#entries[at];
    this.#entries.splice(at, 0, entry);
    if (!log) return;
    log.insertBefore(entry.node, next?.node ?? null);
    this.#placeDivider(log);
  }

  #after(a, b) { return a.seq > b.seq || (a.seq === b.seq && a.order > b.order); }

  #remove(entry) {
    this.#entries.splice(this.#entries.indexOf(entry), 1);
    if (this.#bySeq.get(entry.seq) === entry) this.#bySeq.delete(entry.seq);
    if (entry.cid !== undefined && this.#byCid.get(entry.cid) === entry) this.#byCid.delete(entry.cid);
    entry.node.remove();
  }

  // Index of the first message from the peer past dividerAfter, or -1.
  #dividerIndex() {
    if (this.dividerAfter === null) return -1;
    return this.#entries.findIndex((e) => !e.mine && e.seq !== NO_SEQ && e.seq > this.dividerAfter);
  }

  #dividerNode() {
    this.#divider ??= dividerNode();
    return this.#divider;
  }

  #placeDivider(log) {
    const at = this.#dividerIndex();
    if (at < 0) {
      this.#divider?.remove();
      return;
    }
    const target = this.#entries[at].node;
    if (target.previousSibling !== this.#divider) log.insertBefore(this.#dividerNode(), target);
  }
}
