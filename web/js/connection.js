// One chat connection as a browser sees it: dial, wait for `welcome`, keep it alive with the
// app-level ping, and redial with exponential backoff and jitter when it drops. Owns the
// WebSocket; knows nothing about the page. Reports through events:
//   'state'  detail {state, retryAt, reason}   state: idle | connecting | online | reconnecting | offline
//   'frame'  detail <the parsed JSON object of a text frame>
//   'file'   detail {header, payload}           a binary frame, split by decodeBinary
//   'dropped' detail {code, reason}             an online connection ended (before any redial)
import { decodeBinary, decodeText, socketPath, socketUrl } from './protocol.js';

const BACKOFF_START_MS = 1000; // first redial after a second...
const BACKOFF_MAX_MS = 30000; // ...doubling up to half a minute
const PING_EVERY_MS = 15000; // browsers cannot send ping frames: the protocol's {"type":"ping"}
const PONG_WITHIN_MS = 10000; // no frame at all this long after our ping: the server is gone
const REASON_CHECK_MS = 3000; // bound on the HTTP request that fetches a refusal's reason
const REFUSALS = new Set([400, 401, 403]); // bad id, bad token, forbidden: redialing cannot help

export class Connection extends EventTarget {
  #location;
  #id = null;
  #socket = null;
  #state = 'idle';
  #retryAt = 0;
  #reason = '';
  #failures = 0; // dials in a row that did not reach `welcome`
  #everWelcomed = false; // this id got a welcome once: a failure now is an outage, not a refusal
  #retryTimer = 0;
  #pingTimer = 0;
  #pongTimer = 0;
  #heardSincePing = true;

  constructor(location) {
    super();
    this.#location = location;
    globalThis.addEventListener?.('online', () => {
      if (this.#state === 'reconnecting') this.#dial();
    });
  }

  get id() { return this.#id; }
  get state() { return this.#state; }
  get retryAt() { return this.#retryAt; }
  get reason() { return this.#reason; }
  get bufferedAmount() { return this.#socket?.bufferedAmount ?? 0; }

  /** Connects as `id`, leaving any current connection first. */
  open(id) {
    this.#teardown();
    this.#id = id;
    this.#failures = 0;
    this.#everWelcomed = false;
    this.#dial();
  }

  /** Redials now when waiting to reconnect (the user's "Retry now"). */
  retryNow() {
    if (this.#state === 'reconnecting' || this.#state === 'offline') this.#dial();
  }

  /** Closes on the user's request; no redial. */
  close() {
    this.#teardown();
    this.#setState('offline', 'Disconnected');
  }

  /** Sends one JSON object. Returns false when not online (nothing was sent). */
  sendJson(object) {
    if (this.#state !== 'online') return false;
    this.#socket.send(JSON.stringify(object));
    return true;
  }

  /** Sends one binary frame (an ArrayBuffer). Returns false when not online. */
  sendBinary(buffer) {
    if (this.#state !== 'online') return false;
    this.#socket.send(buffer);
    return true;
  }

  #setState(state, reason = '') {
    this.#state = state;
    this.#reason = reason;
    this.dispatchEvent(new CustomEvent('state', { detail: { state, retryAt: this.#retryAt, reason } }));
  }

  #dial() {
    this.#teardown();
    this.#setState('connecting');
    let socket;
    try {
      socket = new WebSocket(socketUrl(this.#location, this.#id));
    } catch (error) {
      this.#setState('offline', `Cannot connect: ${error.message}`);
      return;
    }
    socket.binaryType = 'arraybuffer';
    let welcomed = false;
    socket.onmessage = (event) => {
      this.#heardSincePing = true;
      if (typeof event.data !== 'string') {
        const file = decodeBinary(event.data);
        if (file) this.dispatchEvent(new CustomEvent('file', { detail: file }));
        return;
      }
      const frame = decodeText(event.data);
      if (!frame) return;
      if (frame.type === 'welcome' && !welcomed) {
        welcomed = true;
        this.#everWelcomed = true;
        this.#failures = 0;
        this.#startPing();
        this.#setState('online');
      }
      this.dispatchEvent(new CustomEvent('frame', { detail: frame }));
    };
    socket.onclose = (event) => this.#closed(socket, welcomed, event.code, event.reason);
    socket.onerror = () => {}; // 'close' always follows and carries what we need
    this.#socket = socket;
  }

  #closed(socket, welcomed, code, reason) {
    if (socket !== this.#socket) return; // a socket we already left
    this.#socket = null;
    this.#stopPing();
    if (welcomed) this.dispatchEvent(new CustomEvent('dropped', { detail: { code, reason } }));
    if (code === 1008) {
      this.#setState('offline', reason || 'The server refused the connection (policy).');
      return;
    }
    if (!welcomed && !this.#everWelcomed) {
      this.#checkRefusal();
      return;
    }
    this.#scheduleRedial();
  }

  // The browser hides why an upgrade was refused, so ask the same path over plain HTTP: a 4xx
  // answer is the server's reason (a bad id, a bad token) and redialing would not help.
  async #checkRefusal() {
    const id = this.#id;
    let refusal = null;
    try {
      const response = await fetch(socketPath(this.#location, id), {
        cache: 'no-store', signal: AbortSignal.timeout(REASON_CHECK_MS),
      });
      if (REFUSALS.has(response.status)) {
        refusal = (await response.text()).trim() || `HTTP ${response.status}`;
      }
    } catch {
      // The server is not reachable at all: an outage, so keep trying.
    }
    if (id !== this.#id || this.#state !== 'connecting') return; // the user moved on meanwhile
    if (refusal !== null) this.#setState('offline', refusal);
    else this.#scheduleRedial();
  }

  #scheduleRedial() {
    const base = Math.min(BACKOFF_MAX_MS, BACKOFF_START_MS * 2 ** this.#failures);
    const jittered = Math.min(BACKOFF_MAX_MS, base * (0.8 + 0.4 * Math.random()));
    this.#failures += 1;
    this.#retryAt = Date.now() + jittered;
    this.#retryTimer = setTimeout(() => this.#dial(), jittered);
    this.#setState('reconnecting');
  }

  #startPing() {
    this.#stopPing();
    this.#pingTimer = setInterval(() => {
      this.#heardSincePing = false;
      this.sendJson({ type: 'ping' });
      clearTimeout(this.#pongTimer);
      this.#pongTimer = setTimeout(() => {
        if (!this.#heardSincePing) this.#abandon();
      }, PONG_WITHIN_MS);
    }, PING_EVERY_MS);
  }

  #stopPing() {
    clearInterval(this.#pingTimer);
    clearTimeout(this.#pongTimer);
  }

  // A silent server: stop waiting for its close handshake and redial at once.
  #abandon() {
    const socket = this.#socket;
    if (!socket) return;
    this.#closed(socket, true, 4000, 'no answer to ping');
    socket.onclose = null;
    socket.close();
  }

  #teardown() {
    clearTimeout(this.#retryTimer);
    this.#stopPing();
    const socket = this.#socket;
    this.#socket = null;
    if (socket) {
      socket.onmessage = socket.onclose = null;
      socket.close(1000);
    }
  }
}
