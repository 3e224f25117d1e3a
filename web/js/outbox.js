// Outgoing messages and files until the server settles them. Each is sent with a fresh `cid`;
// the `ack` or `error` echoing that cid marks it delivered or failed. Made while not online, it
// waits in order and goes out on the next `welcome`; sent but unanswered when the connection
// drops, it is marked failed with a retry, since the server may or may not have delivered it.
import { encodeBinary } from './protocol.js';
import { setStatus } from './render.js';

export class Outbox {
  #connection;
  #pending = new Map(); // cid -> item sent, waiting for its ack or error
  #queue = []; // items made while not online
  #nextCid = 1;

  constructor(connection) {
    this.#connection = connection;
  }

  /**
   * Sends `item` now, or queues it. item: {frame, node, binary?, payload?}; `frame` is the
   * text frame object or the binary header, `node` the message element whose status shows it.
   */
  send(item) {
    item.frame.cid = `c${this.#nextCid++}`;
    const sent = item.binary
      ? this.#connection.sendBinary(encodeBinary(item.frame, item.payload))
      : this.#connection.sendJson(item.frame);
    if (sent) {
      this.#pending.set(item.frame.cid, item);
      setStatus(item.node, 'sending');
    } else {
      this.#queue.push(item);
      setStatus(item.node, 'queued');
    }
  }

  /** After `welcome`: sends what was queued, in order. */
  flush() {
    while (this.#queue.length && this.#connection.state === 'online') this.send(this.#queue.shift());
  }

  /** An `ack` or `error` frame: settles its item. Returns false when no item had that cid. */
  settle(frame) {
    const item = this.#pending.get(frame.cid);
    if (!item) return false;
    this.#pending.delete(frame.cid);
    // With a store, a recipient that was offline gets it later: the ack says "stored".
    if (frame.type === 'ack') setStatus(item.node, frame.status === 'stored' ? 'stored' : 'delivered');
    else this.#fail(item, frame.message || frame.code, false);
    return true;
  }

  /** The connection dropped with close `code`: everything unanswered is marked failed. */
  dropped(code) {
    const tooBig = code === 1009; // over the server's own limit: retrying cannot help
    for (const item of this.#pending.values()) {
      this.#fail(item, tooBig ? 'too large for this server' : 'connection lost, tap to retry', !tooBig);
    }
    this.#pending.clear();
  }

  /** Forgets everything (connecting as another id). */
  clear() {
    this.#pending.clear();
    this.#queue.length = 0;
  }

  #fail(item, reason, retryable) {
    setStatus(item.node, 'failed', reason);
    if (!retryable) return;
    const status = item.node.querySelector('.status');
    status.setAttribute('role', 'button');
    status.tabIndex = 0;
    const retry = (event) => {
      if (event.type === 'keydown' && event.key !== 'Enter' && event.key !== ' ') return;
      status.removeAttribute('role');
      status.removeAttribute('tabindex');
      status.onclick = status.onkeydown = null;
      this.send(item);
    };
    status.onclick = status.onkeydown = retry;
  }
}
