// parley-client: one client of a Parley server (docs/protocol.md, versions 1 and 2), for
// browsers and Node 20. See docs/client.md for the API and a bot.
//
// One ParleyClient is one identity (an id) with at most one socket at a time. It redials by
// itself (exponential backoff, full jitter), keeps the socket alive with the protocol's
// {"type":"ping"}, re-sends unacked messages with their own cid, and after each welcome
// resumes without gaps: the inbox, then `conversations`, then `history after` for each
// conversation that moved. Everything the application needs to show arrives as events.
import { backoffDelay } from './backoff.js';
import { Conversations } from './conversations.js';
import { decodeFile, encodeFile, toBytes, utf8Length } from './frames.js';
import { Outbox } from './outbox.js';
import { refusalOf } from './refusal.js';
import { Requests } from './requests.js';
import { resume } from './resume.js';
import { Typing } from './typing.js';

export { backoffDelay } from './backoff.js';
export { Conversations } from './conversations.js';
export { decodeFile, encodeFile } from './frames.js';
export { Outbox, RETRIED_ERRORS } from './outbox.js';
export { REFUSED_STATUSES } from './refusal.js';
export { resume } from './resume.js';

/**
 * @typedef {object} ParleyClientOptions
 * @property {string|((attempt: number) => string)} url the server's base, e.g.
 *   "ws://127.0.0.1:8000", or a function asked before each dial (attempt counts failures)
 * @property {string} id the client id to connect as
 * @property {string|(() => string|Promise<string>)} [token] sent as ?token=; a function is
 *   asked before each dial (a fresh token after 4001)
 * @property {typeof WebSocket} [WebSocket] the class to use; default globalThis.WebSocket,
 *   else the `ws` package, imported when first needed (Node 20)
 * @property {number} [backoffBaseMs=250] the first redial's delay ceiling (it doubles)
 * @property {number} [backoffMaxMs=30000] the delay ceiling never grows past this
 * @property {number} [pingIntervalMs=15000] send {"type":"ping"} this often while online
 * @property {number} [idleTimeoutMs=25000] no frame at all for this long: close and redial
 * @property {number} [maxOutboxMessages=1000] unacked messages at most (send() throws past it)
 * @property {number} [maxOutboxBytes=16777216] their bytes at most
 * @property {number} [maxTextBytes=65536] a longer text fails locally (too_large)
 * @property {number} [typingThrottleMs=3000] at most one `typing` per peer this often
 * @property {number} [typingExpiryMs=5000] a received `typing` lasts this long
 * @property {'all'|'none'} [backfill='all'] resume a never-seen conversation from seq 1 ('all')
 *   or from what arrives ('none': a bot)
 * @property {number} [pageSize=200] `history`/`conversations` page size on resume
 * @property {() => number} [random=Math.random] for the jitter (tests)
 * @property {typeof fetch|null} [fetch] asks why a dial failed before any welcome (refusal.js);
 *   default globalThis.fetch; null: never ask, always redial
 * @property {number} [refusalCheckMs=3000] bound on that request
 */

/**
 * An event with a `detail`, as a browser's CustomEvent, made from Event so that it exists in
 * every Node that has EventTarget (Node 18, Debian 12's, has no global CustomEvent).
 */
export class ParleyEvent extends Event {
  /** @param {string} type @param {unknown} detail */
  constructor(type, detail) {
    super(type);
    /** @type {any} */
    this.detail = detail;
  }
}

/**
 * Events (each a ParleyEvent, an Event with a `detail`, like a browser's CustomEvent; read
 * `event.detail`):
 * - `state`   {state: 'connecting'|'online'|'offline', reason?, code?, retryInMs?, refused?}
 *              (refused: the server refused this id or token, code its HTTP status; no redial)
 * - `message` {peer, from, to, seq?, mid, ts, text?|file: {name?, mime?, data: Uint8Array},
 *              source: 'live'|'inbox'|'history', mine: boolean} (each (peer, seq) once)
 * - `status`  {message: OutgoingMessage} a message I sent changed state
 * - `receipt` {with, seq, status} the peer's connections got (or read) up to seq
 * - `read`    {with, seq, unread} my read cursor moved (me, or another tab)
 * - `presence` {id, online} @ `typing` {from, active, expiresAt?} @ `left` {id}
 * - `conversations` {items} the list after each resume (the server's items)
 * - `synced`  {} the resume after a welcome finished
 * - `epoch`   {previous, epoch} a new store: every cursor was dropped; clear the view
 * - `error`   {code, message, cid?} an error frame that is not about a queued message
 */
export class ParleyClient extends EventTarget {
  /** @type {Required<Omit<ParleyClientOptions, 'token'|'WebSocket'>> & ParleyClientOptions} */
  #options;
  /** @type {(WebSocket & {terminate?: () => void}) | null} */
  #socket = null;
  #state = 'offline';
  #attempt = 0; // dials in a row that did not reach `welcome`
  #generation = 0; // bumped on every socket: late callbacks of an old one are ignored
  #timers = new Set();
  /** @type {ReturnType<typeof setInterval> | undefined} */
  #pingTimer = undefined;
  #lastHeard = 0;
  #closedByUser = true;
  #connects = 0; // bumped by connect() and close(): a refusal check of an earlier run is void
  #welcomed = false; // a welcome came since connect(): a failed dial is an outage, not a refusal
  #dialUrl = '';
  #epoch = null;
  #inboxDone = false;
  #requests = new Requests();
  #nextCid = 0;
  #cidPrefix = Math.random().toString(36).slice(2, 10);
  #watched = new Set();
  #typing;
  #presence = new Map();
  outbox;
  conversations;

  /** @param {ParleyClientOptions} options */
  constructor(options) {
    super();
    this.#options = { backoffBaseMs: 250, backoffMaxMs: 30000, pingIntervalMs: 15000,
      idleTimeoutMs: 25000, maxOutboxMessages: 1000, maxOutboxBytes: 16 << 20,
      maxTextBytes: 65536, typingThrottleMs: 3000, typingExpiryMs: 5000, backfill: 'all',
      pageSize: 200, random: Math.random, fetch: globalThis.fetch?.bind(globalThis) ?? null,
      refusalCheckMs: 3000,
      ...options };
    this.outbox = new Outbox({ maxCount: this.#options.maxOutboxMessages,
      maxBytes: this.#options.maxOutboxBytes });
    this.conversations = new Conversations({ backfill: this.#options.backfill });
    this.#typing = new Typing({ throttleMs: this.#options.typingThrottleMs,
      expiryMs: this.#options.typingExpiryMs,
      onChange: (from, active, expiresAt) => this.#emit('typing', { from, active, expiresAt }) });
  }

  /** My id. */ get id() { return this.#options.id; }
  /** 'connecting' | 'online' | 'offline'. */ get state() { return this.#state; }
  /** The store's epoch from the last welcome (null without a store). */ get epoch() { return this.#epoch; }
  /** Unread messages from `peer` (see Conversations.unread). */ unread(peer) { return this.conversations.unread(peer); }
  /** The last presence seen for `id`: true, false or undefined. */ online(id) { return this.#presence.get(id); }

  /** Starts connecting (and reconnecting until close()). */
  connect() {
    if (this.#closedByUser) {
      this.#connects++;
      this.#welcomed = false;
    }
    this.#closedByUser = false;
    if (!this.#socket && this.#state !== 'connecting') this.#dial();
  }

  /** Closes for good (no redial). Queued messages stay in the outbox for a later connect(). */
  close() {
    this.#closedByUser = true;
    this.#connects++;
    this.#dropSocket(1000, 'closed by the application');
    this.#typing.clear();
    this.#setState('offline', { reason: 'closed' });
  }

  /**
   * Sends a text message. It is queued now and written when online; watch `status` events or
   * the returned object's `state`.
   * @returns {import('./outbox.js').OutgoingMessage}
   * @throws {RangeError} when the outbox is full
   */
  send(to, text) {
    /** @type {import('./outbox.js').OutgoingMessage} */
    const message = { cid: this.#cid('m'), to, text, state: 'queued' };
    if (utf8Length(text) > this.#options.maxTextBytes) {
      Object.assign(message, { state: 'failed', error: 'too_large' }); // the server could not say which
      this.#emit('status', { message });
      return message;
    }
    const frame = JSON.stringify({ type: 'msg', to, text, cid: message.cid });
    this.outbox.add(message, frame, utf8Length(frame));
    this.#flush();
    return message;
  }

  /**
   * Sends a file as one binary frame.
   * @param {Blob|ArrayBuffer|Uint8Array} data
   * @param {{name?: string, mime?: string}} [meta]
   * @returns {Promise<import('./outbox.js').OutgoingMessage>}
   */
  async sendFile(to, data, meta = {}) {
    const { name, mime } = meta;
    const bytes = await toBytes(data);
    /** @type {import('./outbox.js').OutgoingMessage} */
    const message = { cid: this.#cid('f'), to, file: { name, mime, size: bytes.length }, state: 'queued' };
    const frame = encodeFile({ to, name, mime, cid: message.cid }, bytes);
    this.outbox.add(message, frame, frame.length);
    this.#flush();
    return message;
  }

  /**
   * Sends a failed message again: the same frame with the same cid (a server that stored it
   * after all acks it as a duplicate). Its state goes back to `queued`.
   * @param {import('./outbox.js').OutgoingMessage} message
   * @returns {boolean} false when it is not a failed message the outbox keeps (a text that was
   *   too large locally never entered it)
   */
  retry(message) {
    if (!this.outbox.retry(message.cid)) return false;
    this.#emit('status', { message });
    this.#flush();
    return true;
  }

  /** Marks everything up to `seq` from `peer` as read (sends `read` when the cursor moves). */
  markRead(peer, seq) {
    if (this.#onRead(peer, seq)) this.#write({ type: 'read', with: peer, seq });
  }

  /** Follows these ids' presence, now and after every reconnect. */
  watch(ids) {
    for (const id of ids) this.#watched.add(id);
    this.#write({ type: 'watch', ids });
  }

  /** Says "typing" to `to`, at most once per typingThrottleMs. */
  typing(to) {
    if (this.#typing.due(to) && this.#write({ type: 'typing', to })) this.#typing.sent(to);
  }

  /** @returns {Promise<{online: string[], total: number}>} who is online (rejects when offline) */
  who() { return this.#request({ type: 'who' }); }

  /**
   * One page of history (its messages also arrive as `message` events, deduplicated).
   * @param {{before?: number, after?: number, limit?: number}} [page]
   * @returns {Promise<{count: number, more: boolean, first_seq: number}>}
   */
  history(peer, page = {}) { return this.#request({ type: 'history', with: peer, ...page }, peer); }

  /** @returns {Promise<{items: object[], more: boolean}>} one page of the conversation list */
  listConversations(page = {}) { return this.#request({ type: 'conversations', ...page }); }

  // ---- the socket ----

  async #dial() {
    const generation = ++this.#generation;
    this.#setState('connecting');
    let socket;
    try {
      const url = this.#dialUrl = await this.#url();
      const WebSocketClass = await this.#webSocketClass();
      if (generation !== this.#generation) return;
      socket = new WebSocketClass(url);
    } catch (error) {
      if (generation === this.#generation) this.#lost({ reason: String(error?.message ?? error) });
      return;
    }
    this.#socket = socket;
    socket.binaryType = 'arraybuffer';
    socket.onmessage = (event) => generation === this.#generation && this.#onData(event.data);
    socket.onclose = (event) => generation === this.#generation &&
      this.#lost({ code: event.code, reason: event.reason || 'closed' });
    socket.onerror = () => {}; // a close follows every error
  }

  async #url() {
    const { url, id, token } = this.#options;
    const base = typeof url === 'function' ? url(this.#attempt) : url;
    const value = typeof token === 'function' ? await token() : token;
    const query = value ? `?token=${encodeURIComponent(value)}` : '';
    return `${base.replace(/\/$/, '')}/ws/${encodeURIComponent(id)}${query}`;
  }

  async #webSocketClass() {
    if (this.#options.WebSocket) return this.#options.WebSocket;
    if (globalThis.WebSocket) return globalThis.WebSocket;
    this.#options.WebSocket = (await import('ws')).WebSocket;
    return this.#options.WebSocket;
  }

  /**
   * The socket ended (or never opened): forget it, fail pending requests, schedule a redial.
   * @param {{code?: number, reason: string}} why
   */
  #lost({ code, reason }) {
    this.#dropSocket();
    if (this.#closedByUser) return;
    const retryInMs = backoffDelay(this.#attempt++, { baseMs: this.#options.backoffBaseMs,
      maxMs: this.#options.backoffMaxMs }, this.#options.random);
    this.#setState('offline', { code, reason, retryInMs });
    this.#later(retryInMs, () => !this.#closedByUser && !this.#socket && this.#dial());
    if (!this.#welcomed && code === 1006 && this.#options.fetch) this.#checkRefusal(this.#connects);
  }

  // No welcome yet since connect(), and the dial failed: ask the server why (refusal.js). A
  // refusal stops the redials; `connects` tells a check that the application moved on meanwhile.
  async #checkRefusal(connects) {
    const refusal = await refusalOf(this.#dialUrl, this.#options.fetch, this.#options.refusalCheckMs);
    if (!refusal || connects !== this.#connects || this.#welcomed) return;
    this.#closedByUser = true;
    this.#dropSocket();
    this.#setState('offline', { code: refusal.status, reason: refusal.reason, refused: true });
  }

  #dropSocket(code, reason) {
    this.#generation++;
    const socket = this.#socket;
    this.#socket = null;
    clearInterval(this.#pingTimer);
    this.#pingTimer = undefined;
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
    this.outbox.connectionLost();
    this.#requests.rejectAll('connection lost');
    if (!socket || socket.readyState > 1) return;
    // A lost connection is not worth a close handshake (the server may be gone): ws can destroy
    // its socket at once; a browser's can only be closed.
    try {
      if (code === undefined && socket.terminate) socket.terminate();
      else socket.close(code ?? 1000, reason);
    } catch { /* already closing */ }
  }

  /**
   * Drops the current socket as if the network failed (the `ws` socket is destroyed without a
   * close handshake; a browser's is closed), then redials with backoff. For tests and for an
   * application that knows the network changed.
   */
  dropConnection() {
    if (!this.#socket) return;
    this.#lost({ code: 1006, reason: 'dropped by the application' });
  }

  // While online: a {"type":"ping"} every pingIntervalMs (its pong, like any frame, proves the
  // server alive), and a check every quarter of idleTimeoutMs, so a silent server is given up
  // within 1.25 idleTimeoutMs.
  #startPing() {
    const { pingIntervalMs, idleTimeoutMs } = this.#options;
    let lastPing = this.#lastHeard = Date.now();
    this.#pingTimer = setInterval(() => {
      const now = Date.now();
      if (now - this.#lastHeard > idleTimeoutMs) return this.#lost({ reason: 'no frame from the server' });
      if (now - lastPing < pingIntervalMs) return;
      lastPing = now;
      this.#write({ type: 'ping' });
    }, Math.min(pingIntervalMs, idleTimeoutMs / 4));
  }

  #write(frame) {
    if (this.#state !== 'online') return false;
    this.#socket.send(typeof frame === 'string' || frame instanceof Uint8Array ? frame : JSON.stringify(frame));
    return true;
  }

  #flush() {
    if (this.#state !== 'online') return;
    for (const frame of this.outbox.takeUnsent()) this.#socket.send(frame);
  }

  #later(ms, fn) {
    const timer = setTimeout(() => { this.#timers.delete(timer); fn(); }, ms);
    this.#timers.add(timer);
  }

  // ---- frames from the server ----

  #onData(data) {
    this.#lastHeard = Date.now();
    if (typeof data !== 'string') return this.#onFile(data);
    let frame;
    try { frame = JSON.parse(data); } catch { return; }
    if (typeof frame?.type === 'string' && Object.hasOwn(this.#handlers, frame.type)) {
      this.#handlers[frame.type](frame);
    }
  }

  // One handler per frame type the server sends; unknown types are ignored (the protocol may grow).
  /** @type {Record<string, (frame: any) => void>} */
  #handlers = {
    welcome: (frame) => this.#onWelcome(frame),
    msg: (frame) => this.#onMessage(frame, { text: frame.text }),
    ack: (frame) => this.#onAck(frame),
    error: (frame) => this.#onError(frame),
    receipt: (frame) => this.#onReceipt(frame.with, frame.seq, frame.status, true),
    read: (frame) => this.#onRead(frame.with, frame.seq),
    inbox: () => { this.#inboxDone = true; this.#resume(this.#generation); },
    presence: (frame) => { this.#presence.set(frame.id, frame.online); this.#emit('presence', frame); },
    typing: (frame) => this.#typing.received(frame.from),
    left: (frame) => this.#emit('left', { id: frame.id }),
    who: (frame) => this.#requests.settle(frame),
    history: (frame) => this.#requests.settle(frame),
    conversations: (frame) => this.#requests.settle(frame),
    pong: () => {},
  };

  // Another connection of mine read up to seq (or this one did, in markRead).
  #onRead(peer, seq) {
    if (!this.conversations.markRead(peer, seq)) return false;
    this.#emit('read', { with: peer, seq, unread: this.unread(peer) });
    return true;
  }

  #onWelcome(frame) {
    this.#attempt = 0;
    this.#welcomed = true;
    this.#inboxDone = false;
    if (frame.epoch !== undefined && this.#epoch !== null && frame.epoch !== this.#epoch) {
      this.conversations.reset();
      this.outbox.resetReceipts();
      this.#emit('epoch', { previous: this.#epoch, epoch: frame.epoch });
    }
    this.#epoch = frame.epoch ?? null;
    this.#setState('online');
    this.#startPing();
    if (this.#watched.size > 0) this.#write({ type: 'watch', ids: [...this.#watched] });
    this.#flush();
  }

  #onFile(data) {
    let decoded;
    try { decoded = decodeFile(data); } catch { return; }
    const { name, mime } = decoded.header;
    this.#onMessage(decoded.header, { file: { name, mime, data: decoded.payload } });
  }

  // A message from the server (live, inbox or history): dropped when its (peer, seq) is held.
  #onMessage(header, body) {
    const me = this.#options.id;
    const mine = header.from === me;
    const peer = mine ? header.to : header.from;
    if (header.seq !== undefined && !this.conversations.receive(peer, header.seq, !mine, header.ts)) return;
    const source = !this.#inboxDone && this.#epoch !== null ? 'inbox'
      : this.#requests.historyPending(peer) ? 'history' : 'live';
    if (!mine) this.#typing.end(peer);
    this.#emit('message', { peer, from: header.from, to: header.to, seq: header.seq, mid: header.mid,
      ts: header.ts, ...body, source, mine });
  }

  // My message is committed: its seq is held too, so a resume does not fetch it back.
  #onAck(frame) {
    const message = this.outbox.ack(frame);
    if (!message) return;
    if (message.seq !== undefined) this.conversations.receive(message.to, message.seq, false, message.ts);
    this.#emit('status', { message });
  }

  #onError(frame) {
    const outcome = frame.cid !== undefined ? this.outbox.error(frame.cid, frame.code, frame.message) : null;
    if (!outcome) {
      if (frame.cid !== undefined && this.#requests.has(frame.cid)) return this.#requests.settle(frame, true);
      return this.#emit('error', { code: frame.code, message: frame.message, cid: frame.cid });
    }
    if (!outcome.retry) return this.#emit('status', { message: outcome.message });
    const delay = backoffDelay(2, { baseMs: this.#options.backoffBaseMs,
      maxMs: this.#options.backoffMaxMs }, this.#options.random);
    this.#later(delay, () => this.#flush());
  }

  #onReceipt(peer, seq, status, emit) {
    if (emit) this.#emit('receipt', { with: peer, seq, status });
    for (const message of this.outbox.receipt(peer, seq, status)) this.#emit('status', { message });
  }

  // ---- resume (resume.js) ----

  async #resume(generation) {
    try {
      const items = await resume({
        listConversations: (page) => this.listConversations(page),
        history: (peer, page) => this.history(peer, page),
        conversations: this.conversations,
        pageSize: this.#options.pageSize,
        onItem: (item) => {
          this.#onReceipt(item.with, item.peer_delivered ?? 0, 'delivered', false);
          this.#onReceipt(item.with, item.peer_read ?? 0, 'read', false);
        },
        onListed: (items) => generation === this.#generation && this.#emit('conversations', { items }),
      });
      if (generation === this.#generation) this.#emit('synced', { conversations: items.length });
    } catch (error) {
      if (generation === this.#generation) this.#emit('error', { code: 'resume', message: String(error.message) });
    }
  }

  // ---- requests answered by a frame with the same cid (requests.js) ----

  // Sends a request with a fresh cid; its answer (or an error with the cid) settles the promise.
  #request(frame, peer) {
    if (this.#state !== 'online') return Promise.reject(new Error('not online'));
    const cid = this.#cid('r');
    const answer = this.#requests.open(cid, peer);
    this.#write({ ...frame, cid });
    return answer;
  }

  #cid(kind) { return `${kind}${this.#cidPrefix}-${(this.#nextCid++).toString(36)}`; }

  #setState(state, detail = {}) {
    this.#state = state;
    this.#emit('state', { state, ...detail });
  }

  #emit(type, detail) { this.dispatchEvent(new ParleyEvent(type, detail)); }
}
