// The chat page: the client library (lib/parley-client.js, clients/js in the sources) talks to
// the server; this file wires what it reports to the people list, the open conversation and the
// composer. Everything runs on the browser's one thread.
import { ParleyClient } from '../lib/parley-client.js';
import { utf8Length } from '../lib/frames.js';
import { Contacts } from './contacts.js';
import { MAX_BINARY_BYTES, acceptDrops, binaryFrameSize, fitName } from './files.js';
import { MAX_VOICE_NOTE_MS, VoiceRecorder, canRecord, formatLength } from './recorder.js';
import {
  blobUrl, formatSize, messageNode, paintAvatar, setStatus, systemNode,
} from './render.js';


const ID_PATTERN = /^[A-Za-z0-9_.-]{1,64}$/; // what the server accepts as an id
const MAX_TEXT_BYTES = 64 * 1024; // the protocol's default --max-text-bytes for one frame
const MAX_MIME_CHARS = 127; // the protocol's bound on a file's type (127 bytes; types are ASCII)
const CID_ROOM = 'm00000000-00000'; // as long as a cid of the library's gets in a page's life
const WHO_EVERY_MS = 15000; // refresh the list of who is online
const WHO_LISTED = 100; // people added from `who` stop here, so a busy server cannot flood the list
const PAGE_SIZE = 50; // messages per history page (opening a conversation, scrolling up)
const LOAD_OLDER_WITHIN_PX = 80; // scrolled this close to the top: fetch the older page
const $ = (id) => document.getElementById(id);

const contacts = new Contacts($('contacts'), $('contacts-empty'), (id) => openConversation(id, true),
  unreadOf);
const recorder = new VoiceRecorder(showRecordingLength);
/** @type {ParleyClient|null} */
let client = null;
let active = null; // the contact whose conversation is shown
let whoTimer = 0;
let countdownTimer = 0;

// ---- the client -------------------------------------------------------------------------

/** ws: or wss: (by the page's own scheme) on the host and port that served the page. */
function serverUrl() {
  return `${window.location.protocol === 'https:' ? 'wss:' : 'ws:'}//${window.location.host}`;
}

function connectAs(id) {
  if (!id) return showAlert('Enter an id to connect as.');
  if (client?.id === id && client.state !== 'offline') return;
  client?.close();
  client = null;
  clearView();
  const url = new URL(window.location.href);
  url.searchParams.set('id', id);
  history.replaceState(null, '', url);
  const token = new URLSearchParams(window.location.search).get('token') ?? undefined;
  // backfill 'none': a conversation's history is fetched when it is opened, a page at a time.
  client = new ParleyClient({ url: serverUrl(), id, token, backfill: 'none',
    backoffBaseMs: 1000 });
  for (const [type, handler] of Object.entries(clientHandlers)) {
    const own = client;
    client.addEventListener(type, (event) => own === client && handler(event.detail));
  }
  client.connect();
}

const clientHandlers = {
  state: showState,
  message: received,
  status: ({ message }) => showOwnStatus(message),
  receipt: ({ with: peer }) => refreshTicks(contacts.get(peer)),
  read: ({ with: peer }) => { refreshTicks(contacts.get(peer)); refresh(); },
  conversations: ({ items }) => listed(items),
  synced: () => {
    reopenFromUrl();
    if (active && !active.thread.loaded) loadNewest(active);
  },
  presence: ({ id, online }) => {
    const contact = contacts.get(id);
    if (contact) contact.online = online === true;
    refresh();
  },
  left: ({ id }) => {
    const contact = contacts.ensure(id);
    contact.online = false;
    contact.typing = false;
    note(contact, systemNode(`Client #${id} left the chat`));
    refresh();
  },
  typing: ({ from, active: on }) => {
    const contact = contacts.get(from);
    if (!contact) return;
    contact.typing = on;
    refresh();
  },
  epoch: () => { // a new store: what the page shows belongs to the old one
    const open = active?.id;
    clearView();
    if (open) openConversation(open, false);
  },
  error: ({ code, message }) => code !== 'resume' && notice(active, `Server: ${message || code}`),
};

function showState({ state, reason, code, retryInMs, refused }) {
  clearInterval(countdownTimer);
  if (state === 'online') {
    setPill('online', 'Online');
    showAlert('');
    startWho();
    if (!client.epoch) reopenFromUrl(); // without a store there is no resume to wait for
    return;
  }
  clearInterval(whoTimer);
  if (state === 'connecting') return setPill('connecting', 'Connecting…');
  if (refused) return refuse(reason); // a bad id or token: the library stopped redialing
  if (retryInMs === undefined) return setPill('offline', 'Offline'); // closed by the page: no redial
  if (code === 1008) return refuse(reason || 'The server refused the connection (policy).');
  const retryAt = Date.now() + (retryInMs ?? 0);
  const tick = () => setPill('reconnecting',
    `Reconnecting in ${Math.max(0, Math.ceil((retryAt - Date.now()) / 1000))} s`);
  tick();
  countdownTimer = setInterval(tick, 250);
}

/** The server will not take this id (or token): no redial, and its reason in the alert. */
function refuse(reason) {
  client.close();
  clearInterval(countdownTimer);
  setPill('offline', 'Offline');
  showAlert(reason);
}

function setPill(state, text) {
  const pill = $('conn-status');
  pill.dataset.state = state;
  if (pill.textContent !== text) pill.textContent = text;
  $('retry-now').hidden = state !== 'reconnecting';
}

function startWho() {
  clearInterval(whoTimer);
  const ask = () => client.who().then(listOnline, () => {});
  ask();
  whoTimer = setInterval(ask, WHO_EVERY_MS);
}

function listOnline({ online }) {
  const fresh = [];
  for (const id of online) {
    if (typeof id !== 'string' || id === client.id) continue;
    if (!contacts.get(id)) {
      if (contacts.size >= WHO_LISTED) continue;
      fresh.push(id);
    }
    contacts.ensure(id).online = true;
  }
  if (fresh.length) client.watch(fresh);
  refresh();
}

function unreadOf(contact) {
  return client?.epoch ? client.unread(contact.id) : contact.unread;
}

// ---- what arrives -----------------------------------------------------------------------

/** The conversation list the server keeps: previews, order and unread counts. */
function listed(items) {
  for (const item of items) {
    const contact = contacts.ensure(item.with);
    contact.lastActive = Math.max(contact.lastActive, item.last_ts);
    if (item.last) contact.preview = previewOf(item.last.from === client.id, item.last);
  }
  const fresh = items.map((item) => item.with).filter((id) => client.online(id) === undefined);
  if (fresh.length) client.watch(fresh);
  refresh();
}

/** A message: live, from the inbox, from a history page, or mine from another tab. */
function received(message) {
  const contact = contacts.ensure(message.peer);
  const node = messageNode({ mine: message.mine, from: message.from, ts: message.ts,
    text: message.text, file: message.file && fileOf(message.file), status: 'sent' });
  if (!contact.thread.add({ node, seq: message.seq, mine: message.mine }, logOf(contact))) return;
  if (message.mine) refreshTicks(contact);
  if (message.source === 'history') return;
  contact.lastActive = Math.max(Date.now(), contact.lastActive);
  contact.preview = previewOf(message.mine, message.file ?? message);
  if (!message.mine) {
    contact.online = true;
    if (message.seq === undefined && (contact !== active || document.hidden)) contact.unread += 1;
  }
  if (message.source === 'live' && !message.mine && !active) openConversation(message.peer, false);
  else if (contact === active) {
    scrollToEnd(node, message.mine);
    markRead(contact);
  }
  refresh();
}

function fileOf({ name, mime, data }) {
  const type = typeof mime === 'string' ? mime : '';
  return { name: typeof name === 'string' && name ? name : 'file', mime: type, size: data.byteLength,
    url: blobUrl(data, type) };
}

function previewOf(mine, { text, name }) {
  const what = text ?? `File: ${name || 'file'}`;
  return mine ? `You: ${what}` : what;
}

// ---- my messages ------------------------------------------------------------------------

function showOwnStatus(message) {
  const contact = contacts.get(message.to);
  const entry = contact?.thread.byCid(message.cid);
  if (!entry) return;
  if (message.seq !== undefined) contact.thread.settle(message.cid, message.seq, logOf(contact));
  if (message.state !== 'failed') return refreshTicks(contact);
  const reason = message.reason ?? message.error ?? '';
  setStatus(entry.node, 'failed', reason, () => client.retry(message));
}

/**
 * Puts every own message of the conversation in its state: the library's for one sent from here,
 * and for all of them the peer's receipts (messages from history, or from my other tabs).
 */
function refreshTicks(contact) {
  if (!contact || !client) return;
  const { delivered, read } = client.outbox.peerCursors(contact.id);
  for (const entry of contact.thread.mineWithSeq()) {
    const own = entry.message?.state;
    const byReceipt = entry.seq <= read ? 'read' : entry.seq <= delivered ? 'delivered' : 'sent';
    setStatus(entry.node, rank(own) > rank(byReceipt) ? own : byReceipt);
  }
  for (const entry of contact.thread.pending()) setStatus(entry.node, entry.message.state);
}

const RANKS = ['sent', 'delivered', 'read'];
function rank(state) { return RANKS.indexOf(state); }

function sendText() {
  const box = $('message');
  const text = box.value;
  if (!active || !text.trim()) return;
  if (!client) return showAlert('Connect with an id first.');
  if (textFrameBytes(active.id, text) > MAX_TEXT_BYTES) {
    notice(active, `That message is too long: the server takes up to ${formatSize(MAX_TEXT_BYTES)} per message.`);
    return;
  }
  let message;
  try {
    message = client.send(active.id, text);
  } catch (error) { // the outbox is full (the server has been away for long)
    notice(active, `Not sent: ${error.message}`);
    return;
  }
  box.value = '';
  autosize();
  showSent(active, message, { text });
}

/** Bytes of the `msg` frame the library sends (its cids are shorter than CID_ROOM). */
function textFrameBytes(to, text) {
  return utf8Length(JSON.stringify({ type: 'msg', to, text, cid: CID_ROOM }));
}

async function sendFile(file) {
  if (!active) return;
  if (!client) return showAlert('Connect with an id first.');
  const contact = active;
  const name = fitName(file.name || 'file');
  const mime = (file.type || '').slice(0, MAX_MIME_CHARS);
  if (binaryFrameSize({ to: contact.id, name, mime, cid: CID_ROOM }, file.size) > MAX_BINARY_BYTES) {
    notice(contact, `${file.name} is ${formatSize(file.size)}; the server accepts files up to ` +
      `${formatSize(MAX_BINARY_BYTES)}. It was not sent.`);
    return;
  }
  const bytes = new Uint8Array(await file.arrayBuffer());
  let message;
  try {
    message = await client.sendFile(contact.id, bytes, mime ? { name, mime } : { name });
  } catch (error) {
    notice(contact, `${name} was not sent: ${error.message}`);
    return;
  }
  showSent(contact, message, { file: { name, mime, size: bytes.length, url: blobUrl(bytes, mime) } });
}

function showSent(contact, message, body) {
  const node = messageNode({ mine: true, ts: Date.now(), status: message.state, ...body });
  node.dataset.cid = message.cid;
  contact.thread.add({ node, mine: true, message }, logOf(contact));
  contact.preview = previewOf(true, body.file ?? body);
  contact.lastActive = Date.now();
  showOwnStatus(message);
  scrollToEnd(node, true);
  refresh();
}

// ---- conversations ----------------------------------------------------------------------

function openConversation(id, focus) {
  const contact = contacts.ensure(id);
  if (client && client.online(id) === undefined) client.watch([id]);
  active = contact;
  const url = new URL(window.location.href);
  url.searchParams.set('with', id);
  history.replaceState(null, '', url);
  $('to').value = id;
  const thread = contact.thread;
  // "New messages" marks what arrived unread since the conversation was last read; it stays put
  // while the conversation is open, and moves (or goes) the next time it is opened.
  thread.dividerAfter = unreadOf(contact) > 0 && client?.epoch
    ? client.conversations.get(id)?.read ?? 0 : null;
  $('log').replaceChildren(...thread.nodes());
  $('log').hidden = false;
  $('empty-state').hidden = true;
  $('peer-name').textContent = id;
  paintAvatar($('peer-avatar'), id);
  $('app').dataset.view = 'chat';
  for (const control of ['message', 'send', 'attach', 'record']) $(control).disabled = false;
  $('record').disabled = !canRecord();
  contact.unread = 0;
  refresh();
  const divider = $('log').querySelector('.divider');
  (divider ?? $('log').lastElementChild)?.scrollIntoView({ block: divider ? 'start' : 'end' });
  if (focus) $('message').focus();
  if (!thread.loaded) loadNewest(contact);
  markRead(contact);
}

/** After a reload: the conversation that was open (`?with=`) opens again. */
function reopenFromUrl() {
  const peer = new URLSearchParams(window.location.search).get('with');
  if (peer && !active && ID_PATTERN.test(peer)) openConversation(peer, false);
}

async function loadNewest(contact) {
  if (!client?.epoch || client.state !== 'online') return;
  contact.thread.loaded = true;
  try {
    const page = await client.history(contact.id, { limit: PAGE_SIZE });
    contact.thread.more = page.more;
    if (contact === active) $('log').lastElementChild?.scrollIntoView({ block: 'end' });
    markRead(contact);
  } catch {
    contact.thread.loaded = false; // the connection dropped: the next open asks again
  }
}

async function loadOlder() {
  const contact = active;
  const thread = contact?.thread;
  if (!thread?.more || thread.loadingOlder || client?.state !== 'online') return;
  thread.loadingOlder = true;
  const log = $('log');
  const fromBottom = log.scrollHeight - log.scrollTop;
  try {
    const page = await client.history(contact.id, { before: thread.oldestSeq, limit: PAGE_SIZE });
    thread.more = page.more;
    if (contact === active) log.scrollTop = log.scrollHeight - fromBottom; // stay where the reader was
  } catch { /* offline: scrolling again asks again */ }
  thread.loadingOlder = false;
}

/** The conversation is on screen: what the peer sent is read (the other tabs hear of it). */
function markRead(contact) {
  if (contact !== active || document.hidden || !client?.epoch) return;
  const seq = contact.thread.newestTheirs;
  if (seq > 0) client.markRead(contact.id, seq);
}

function logOf(contact) { return contact === active ? $('log') : null; }

function scrollToEnd(node, force) {
  const log = $('log');
  const atBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 120;
  if (force || atBottom) node.scrollIntoView({ block: 'end' });
}

function note(contact, node) {
  contact.thread.note(node, logOf(contact));
}

/** Redraws what depends on presence, unread counts and typing. */
function refresh() {
  contacts.render(active?.id ?? null);
  const online = contacts.onlineCount();
  $('online-count').textContent = client ? `· ${online} online` : '';
  const unread = contacts.unreadTotal();
  document.title = `${unread ? `(${unread}) ` : ''}Parley${client ? ` — ${client.id}` : ''}`;
  if (!active) return;
  const presence = active.online === null ? '' : active.online ? 'Online' : 'Offline';
  $('peer-status').textContent = presence;
  $('peer-status').dataset.online = String(active.online);
  $('typing').textContent = active.typing ? `${active.id} is typing...` : '';
}

function notice(contact, text) {
  if (contact) note(contact, systemNode(text, 'error'));
  else showAlert(text);
}

function showAlert(text) {
  $('conn-alert').textContent = text;
  $('conn-alert').hidden = !text;
}

/** Empties the list and the conversation (another id, or a new store). */
function clearView() {
  active = null;
  contacts.clear();
  $('log').replaceChildren();
  $('log').hidden = true;
  $('empty-state').hidden = false;
  $('peer-name').textContent = 'No conversation open';
  $('peer-status').textContent = '';
  $('online-count').textContent = '';
  $('app').dataset.view = 'list';
}

// ---- voice notes ------------------------------------------------------------------------

async function startRecording() {
  if (!active || recorder.recording) return;
  try {
    await recorder.start();
  } catch (error) {
    notice(active, `The microphone is not available: ${error.message}`);
    return;
  }
  $('composer').hidden = true;
  $('recording').hidden = false;
  $('send-voice').focus();
}

function showRecordingLength(ms) {
  $('recording-length').textContent = formatLength(ms);
  if (ms >= MAX_VOICE_NOTE_MS) sendVoiceNote();
}

async function sendVoiceNote() {
  const note = await recorder.finish();
  closeRecording();
  if (!note || !active) return;
  const stamp = new Date().toISOString().replace(/[-:]/g, '').slice(0, 15);
  const extension = note.mime.includes('ogg') ? 'ogg' : note.mime.includes('mp4') ? 'm4a' : 'webm';
  await sendFile(new File([note.blob], `voice-note-${stamp}.${extension}`, { type: note.mime }));
}

function cancelRecording() {
  recorder.cancel();
  closeRecording();
}

function closeRecording() {
  $('recording').hidden = true;
  $('composer').hidden = false;
  $('message').focus();
}

// ---- page controls ----------------------------------------------------------------------

$('connect-form').addEventListener('submit', (event) => {
  event.preventDefault();
  connectAs($('my-id').value.trim());
});

$('to-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const id = $('to').value.trim();
  if (!id) return;
  if (!ID_PATTERN.test(id)) {
    showAlert(`"${id}" is not a valid id: use 1 to 64 of A-Z a-z 0-9 _ . -`);
    return;
  }
  showAlert('');
  openConversation(id, true);
});

$('composer').addEventListener('submit', (event) => {
  event.preventDefault();
  const to = $('to').value.trim();
  if (to && to !== active?.id && ID_PATTERN.test(to)) openConversation(to, false);
  sendText();
});

$('message').addEventListener('keydown', (event) => {
  if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
    event.preventDefault();
    $('composer').requestSubmit();
  }
});
$('message').addEventListener('input', () => {
  autosize();
  if ($('message').value && active) client?.typing(active.id);
});

function autosize() {
  const box = $('message');
  box.style.height = 'auto';
  box.style.height = `${Math.min(box.scrollHeight, 160)}px`;
}

$('attach').addEventListener('click', () => $('file-input').click());
$('file-input').addEventListener('change', async () => {
  const files = [...$('file-input').files];
  $('file-input').value = '';
  for (const file of files) await sendFile(file);
});
$('record').addEventListener('click', startRecording);
$('send-voice').addEventListener('click', sendVoiceNote);
$('cancel-voice').addEventListener('click', cancelRecording);

$('log').addEventListener('scroll', () => {
  if ($('log').scrollTop < LOAD_OLDER_WITHIN_PX) loadOlder();
});

$('back').addEventListener('click', () => {
  $('app').dataset.view = 'list';
  $('to').focus();
});
$('retry-now').addEventListener('click', () => {
  client?.close();
  client?.connect();
});

acceptDrops($('conversation'), $('drop-zone'), () => active !== null, async (files) => {
  for (const file of files) await sendFile(file);
});

document.addEventListener('visibilitychange', () => {
  if (document.hidden || !active) return;
  active.unread = 0;
  markRead(active);
  refresh();
});

const startId = new URLSearchParams(window.location.search).get('id');
if (startId) {
  $('my-id').value = startId;
  connectAs(startId);
  if (!new URLSearchParams(window.location.search).get('with')) $('my-id').focus();
} else {
  $('my-id').focus();
}
