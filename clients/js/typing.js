// Typing indicators: sending is throttled per peer (a frame per keystroke is too many), and a
// received indicator lasts `expiryMs` unless renewed; `onChange(from, active, expiresAt)`
// reports its start and its end.

export class Typing {
  #throttleMs;
  #expiryMs;
  #onChange;
  #sent = new Map(); // peer -> when `typing` was last sent to it
  #timers = new Map(); // from -> the timer that ends its indicator

  /**
   * @param {{throttleMs: number, expiryMs: number,
   *   onChange: (from: string, active: boolean, expiresAt?: number) => void}} options
   */
  constructor({ throttleMs, expiryMs, onChange }) {
    this.#throttleMs = throttleMs;
    this.#expiryMs = expiryMs;
    this.#onChange = onChange;
  }

  /** True when a `typing` to `to` is due (none sent within throttleMs). */
  due(to, now = Date.now()) {
    return now - (this.#sent.get(to) ?? -Infinity) >= this.#throttleMs;
  }

  /** Records that a `typing` went to `to`. */
  sent(to, now = Date.now()) { this.#sent.set(to, now); }

  /** A `typing` frame from `from`: its indicator starts, or lasts expiryMs longer. */
  received(from) {
    this.#stop(from);
    const expiresAt = Date.now() + this.#expiryMs;
    this.#timers.set(from, setTimeout(() => this.end(from), this.#expiryMs));
    this.#onChange(from, true, expiresAt);
  }

  /** Ends the indicator of `from` (it expired, or their message arrived). */
  end(from) {
    if (this.#stop(from)) this.#onChange(from, false);
  }

  /** Ends every indicator silently (the client closes). */
  clear() {
    for (const from of [...this.#timers.keys()]) this.#stop(from);
  }

  #stop(from) {
    const timer = this.#timers.get(from);
    if (timer === undefined) return false;
    clearTimeout(timer);
    this.#timers.delete(from);
    return true;
  }
}
