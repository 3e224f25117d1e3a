// Requests answered by a frame with the same cid (`who`, `history`, `conversations`): a promise
// each, settled by the answer or by an `error` with that cid, and rejected together when the
// connection drops (the answers can no longer come).

export class Requests {
  /** @type {Map<string, {resolve: (frame: any) => void, reject: (error: Error) => void, peer?: string}>} */
  #pending = new Map();

  /**
   * A promise for the answer to the request with `cid`. `peer` marks a `history` request, so
   * the messages that arrive meanwhile from that conversation are known to be its pages.
   * @returns {Promise<any>}
   */
  open(cid, peer) {
    return new Promise((resolve, reject) => this.#pending.set(cid, { resolve, reject, peer }));
  }

  /** True when `cid` is a pending request. */
  has(cid) { return this.#pending.has(cid); }

  /** Resolves the request with the answer `frame` (or rejects it with an `error` frame). */
  settle(frame, failed = false) {
    const request = this.#pending.get(frame.cid);
    if (!request) return;
    this.#pending.delete(frame.cid);
    if (failed) request.reject(Object.assign(new Error(frame.message ?? frame.code), { code: frame.code }));
    else request.resolve(frame);
  }

  /** True while a `history` request for `peer` is pending. */
  historyPending(peer) {
    for (const request of this.#pending.values()) if (request.peer === peer) return true;
    return false;
  }

  /** Rejects every pending request (the connection is gone). */
  rejectAll(reason) {
    for (const request of this.#pending.values()) request.reject(new Error(reason));
    this.#pending.clear();
  }
}
