// What the client holds of each conversation: the seqs it has (for gapless resume and for
// dropping a message that arrives twice, live and through history), the read cursor and the
// unread count. Pure state, no I/O.
//
// Per conversation (keyed by the peer's id; a note to oneself is keyed by one's own id):
//   held   every seq <= held is in the client's hands (resume asks `history after held`)
//   above  seqs > held that arrived early (live while a gap was being filled)
//   skipped backfill 'none' only: seqs <= skipped existed before the client first saw the
//          conversation and were never emitted; `older` holds the ones an explicit
//          `history before` brought since (so scrolling up still works, once per seq)
//   read   my read cursor (mine, or another tab's `read`)
//   lastSeq the highest seq known to exist

/**
 * @typedef {object} ConversationState
 * @property {string} peer
 * @property {number} held
 * @property {Set<number>} above
 * @property {number} skipped
 * @property {Set<number>} older
 * @property {number} read
 * @property {number} lastSeq
 * @property {number} lastTs
 * @property {Set<number>} unreadSeqs the peer's messages past `read` that the client received
 * @property {{upTo: number, count: number}} listed unread count the server listed, up to seq upTo
 */

export class Conversations {
  /** @type {Map<string, ConversationState>} */
  #byPeer = new Map();
  #backfill;

  /**
   * @param {{backfill?: 'all'|'none'}} [options] how to resume a conversation the client never
   *   held: 'all' fetches its history from seq 1; 'none' starts from what arrives (the inbox,
   *   live messages) and the last seq `conversations` lists
   */
  constructor({ backfill = 'all' } = {}) {
    this.#backfill = backfill;
  }

  /** The peers of every known conversation. */
  peers() { return [...this.#byPeer.keys()]; }

  /** The state of one conversation, or undefined. Read-only to callers. */
  get(peer) { return this.#byPeer.get(peer); }

  /** The highest seq the client holds with everything before it (0: none). */
  held(peer) { return this.#byPeer.get(peer)?.held ?? 0; }

  /**
   * Records a message with `seq` in the conversation with `peer`.
   * @param {boolean} fromPeer the peer sent it (counts as unread past the read cursor)
   * @returns {boolean} false when the client already held it (drop it)
   */
  receive(peer, seq, fromPeer, ts = 0) {
    const conv = this.#conv(peer, seq - 1);
    if (seq <= conv.skipped) {
      if (conv.older.has(seq)) return false;
      conv.older.add(seq);
    } else {
      if (seq <= conv.held || conv.above.has(seq)) return false;
      conv.above.add(seq);
      while (conv.above.delete(conv.held + 1)) conv.held++;
    }
    conv.lastSeq = Math.max(conv.lastSeq, seq);
    conv.lastTs = Math.max(conv.lastTs, ts);
    if (fromPeer && seq > conv.read) conv.unreadSeqs.add(seq);
    return true;
  }

  /**
   * Moves the read cursor (my `markRead`, or another tab's `read` frame).
   * @returns {boolean} true when it moved
   */
  markRead(peer, seq) {
    const conv = this.#conv(peer, seq); // 'none': what was read elsewhere is not fetched
    if (seq <= conv.read) return false;
    conv.read = seq;
    for (const s of conv.unreadSeqs) if (s <= seq) conv.unreadSeqs.delete(s);
    return true;
  }

  /**
   * Unread messages from the peer: the ones received past the read cursor, or the count the
   * server listed for the seqs up to its `last_seq` when that is larger (messages the client
   * has not fetched), shrunk by reads since.
   */
  unread(peer) {
    const conv = this.#byPeer.get(peer);
    if (!conv) return 0;
    let upTo = 0;
    let newer = 0;
    for (const s of conv.unreadSeqs) if (s <= conv.listed.upTo) upTo++; else newer++;
    const listed = conv.read >= conv.listed.upTo ? 0
      : Math.min(conv.listed.count, conv.listed.upTo - Math.max(conv.read, 0));
    return newer + Math.max(upTo, listed);
  }

  /**
   * Applies one item of a `conversations` reply and says what to fetch.
   * @param {{with: string, last_seq: number, last_ts: number, unread: number, read: number}} item
   * @returns {number|null} the seq to ask `history after`, or null when nothing is missing
   */
  list(item) {
    const conv = this.#conv(item.with, item.last_seq);
    conv.lastSeq = Math.max(conv.lastSeq, item.last_seq);
    conv.lastTs = Math.max(conv.lastTs, item.last_ts);
    this.markRead(item.with, item.read);
    conv.listed = { upTo: item.last_seq, count: item.unread };
    return item.last_seq > conv.held ? conv.held : null;
  }

  /**
   * History starts at `firstSeq` (retention removed the older messages): nothing before it
   * can be fetched, so the client holds all there is up to firstSeq - 1.
   */
  skipTo(peer, firstSeq) {
    const conv = this.#conv(peer, 0);
    if (firstSeq - 1 <= conv.held) return;
    conv.held = firstSeq - 1;
    for (const s of conv.above) if (s <= conv.held) conv.above.delete(s);
    while (conv.above.delete(conv.held + 1)) conv.held++;
  }

  /** A new store (epoch): every cursor and held seq is dropped. */
  reset() { this.#byPeer.clear(); }

  // The conversation with peer, made on first sight. In 'none' mode `baseline` is where it
  // starts (the seq before the first message seen, the last seq listed, or a read cursor);
  // 'all' always starts at 0.
  #conv(peer, baseline) {
    let conv = this.#byPeer.get(peer);
    if (!conv) {
      const held = this.#backfill === 'none' ? Math.max(0, baseline) : 0;
      conv = { peer, held, above: new Set(), skipped: held, older: new Set(), read: 0,
        lastSeq: held, lastTs: 0, unreadSeqs: new Set(), listed: { upTo: 0, count: 0 } };
      this.#byPeer.set(peer, conv);
    }
    return conv;
  }
}
