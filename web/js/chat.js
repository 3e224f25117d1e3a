// The chat page: wires the connection, the people list and the open conversation together.
// Outgoing messages carry a `cid`; the server's `ack` or `error` for that cid settles them.
import { Connection } from './connection.js';
import { Contacts } from './contacts.js';
import { acceptDrops, fitName } from './files.js';
import { Outbox } from './outbox.js';
import {
  DEFAULT_MAX_BINARY_BYTES, DEFAULT_MAX_TEXT_BYTES, ID_PATTERN, binaryFrameSize, utf8Length,
} from './protocol.js';
import { blobUrl, formatSize, messageNode, paintAvatar, setStatus, systemNode } from './render.js';

const TYPING_EVERY_MS = 2000; // send `typing` at most this often
const WHO_EVERY_MS = 15000; // refresh the list of who is online
const WHO_LISTED = 100; // people added from `who` stop here, so a busy server cannot flood the list
const $ = (id) => document.getElementById(id);

const connection = new Connection(window.location);
const contacts = new Contacts($('contacts'), $('contacts-empty'), (id) => openConversation(id, true));
const outbox = new Outbox(connection);
let me = null;
let active = null; // the contact whose conversation is shown
let lastTypingSent = 0;
let maxBinaryBytes = DEFAULT_MAX_BINARY_BYTES;
let maxTextBytes = DEFAULT_MAX_TEXT_BYTES;
let whoTimer = 0;
let countdownTimer = 0;

// ---- connection state -------------------------------------------------------------------

connection.addEventListener('state', ({ detail }) => {
  const pill = $('conn-status');
  pill.dataset.state = detail.state;
  clearInterval(countdownTimer);
  const label = {
    idle: 'Not connected', connecting: 'Connecting…', online: 'Online', offline: 'Offline',
  };
  if (detail.state === 'reconnecting') {
    const tick = () => {
      const seconds = Math.max(0, Math.ceil((detail.retryAt - Date.now()) / 1000));
      const text = `Reconnecting in ${seconds} s`;
      if (pill.textContent !== text) pill.textContent = text;
    };
    tick();
    countdownTimer = setInterval(tick, 250);
  } else {
    pill.textContent = label[detail.state];
  }
  $('retry-now').hidden = detail.state !== 'reconnecting';
  showAlert(detail.state === 'offline' && detail.reason !== 'Disconnected' ? detail.reason : '');
  if (detail.state !== 'online') clearInterval(whoTimer);
});

connection.addEventListener('dropped', ({ detail }) => outbox.dropped(detail.code));

connection.addEventListener('frame', ({ detail: frame }) => {
  const handler = frameHandlers[frame.type];
  if (handler) handler(frame);
});

connection.addEventListener('file', ({ detail: { header, payload } }) => {
  if (typeof header.from !== 'string' || typeof header.to !== 'string') return;
  const mine = header.from === me;
  const name = typeof header.name === 'string' && header.name ? header.name : 'file';
  const mime = typeof header.mime === 'string' ? header.mime : '';
  const file = { name, mime, size: payload.byteLength, url: blobUrl(payload, mime) };
  receive(mine ? header.to : header.from, { mine, from: header.from, file, ts: header.ts },
    mine ? '' : `File: ${name}`);
});

const frameHandlers = {
  welcome(frame) {
    me = frame.id;
    if (Number.isSafeInteger(frame.max_binary_bytes)) maxBinaryBytes = frame.max_binary_bytes;
    if (Number.isSafeInteger(frame.max_text_bytes)) maxTextBytes = frame.max_text_bytes;
    document.title = `Parley — ${me}`;
    if (contacts.size) connection.sendJson({ type: 'watch', ids: contacts.ids() });
    connection.sendJson({ type: 'who' });
    clearInterval(whoTimer);
    whoTimer = setInterval(() => connection.sendJson({ type: 'who' }), WHO_EVERY_MS);
    outbox.flush();
  },
  msg(frame) {
    if (typeof frame.from !== 'string' || typeof frame.to !== 'string') return;
    const mine = frame.from === me; // a copy of what our other tab sent
    const text = String(frame.text ?? '');
    receive(mine ? frame.to : frame.from, { mine, from: frame.from, text, ts: frame.ts }, text);
  },
  ack(frame) {
    outbox.settle(frame);
  },
  error(frame) {
    if (!outbox.settle(frame) && frame.code !== 'offline') notice(active, `Server: ${frame.message || frame.code}`);
  },
  who(frame) {
    if (!Array.isArray(frame.online)) return;
    const fresh = [];
    for (const id of frame.online) {
      if (typeof id !== 'string' || id === me) continue;
      if (!contacts.get(id)) {
        if (contacts.size >= WHO_LISTED) continue;
        fresh.push(id);
      }
      contacts.ensure(id).online = true;
    }
    if (fresh.length) connection.sendJson({ type: 'watch', ids: fresh });
    refresh();
  },
  presence(frame) {
    const contact = contacts.get(frame.id);
    if (!contact) return;
    contact.online = frame.online === true;
    refresh();
  },
  left(frame) {
    if (typeof frame.id !== 'string') return;
    const contact = contacts.ensure(frame.id);
    contact.online = false;
    contact.typingUntil = 0;
    append(contact, systemNode(`Client #${frame.id} left the chat`));
    refresh();
  },
  typing(frame) {
    const contact = contacts.get(frame.from);
    if (!contact) return;
    setTimeout(refresh, contacts.typing(contact) + 50);
    refresh();
  },
};

// ---- conversations ----------------------------------------------------------------------

/** A message arrived (or a copy of our own from another tab): file it under `peer`. */
function receive(peer, message, preview) {
  const contact = contacts.ensure(peer);
  if (!message.mine) {
    contact.online = true;
    contact.typingUntil = 0;
  }
  message.status = 'delivered';
  contact.preview = message.mine ? `You: ${preview || 'file'}` : preview;
  append(contact, messageNode(message));
  if (!active && !message.mine) openConversation(peer, false);
  else if (contact !== active || document.hidden) contact.unread += message.mine ? 0 : 1;
  refresh();
}

function append(contact, node) {
  contact.nodes.push(node);
  contact.lastActive = Date.now();
  if (contact === active) {
    const log = $('log');
    const atBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 80;
    log.append(node);
    if (atBottom || node.classList.contains('mine')) node.scrollIntoView({ block: 'end' });
  }
}

function openConversation(id, focus) {
  const contact = contacts.ensure(id);
  if (contact.online === null && connection.state === 'online') {
    connection.sendJson({ type: 'watch', ids: [id] });
  }
  active = contact;
  contact.unread = 0;
  $('to').value = id;
  $('log').replaceChildren(...contact.nodes);
  $('log').hidden = false;
  $('empty-state').hidden = true;
  $('peer-name').textContent = id;
  paintAvatar($('peer-avatar'), id);
  $('app').dataset.view = 'chat';
  for (const control of ['message', 'send', 'attach']) $(control).disabled = false;
  refresh();
  $('log').lastElementChild?.scrollIntoView({ block: 'end' });
  if (focus) $('message').focus();
}

/** Redraws what depends on presence, unread counts and typing. */
function refresh() {
  contacts.render(active?.id ?? null);
  const online = contacts.onlineCount();
  $('online-count').textContent = me ? `· ${online} online` : '';
  const unread = contacts.unreadTotal();
  document.title = `${unread ? `(${unread}) ` : ''}Parley${me ? ` — ${me}` : ''}`;
  if (!active) return;
  const presence = active.online === null ? '' : active.online ? 'Online' : 'Offline';
  $('peer-status').textContent = presence;
  $('peer-status').dataset.online = String(active.online);
  $('typing').textContent = contacts.isTyping(active) ? `${active.id} is typing...` : '';
}

function notice(contact, text) {
  if (contact) append(contact, systemNode(text, 'error'));
  else showAlert(text);
}

function showAlert(text) {
  $('conn-alert').textContent = text;
  $('conn-alert').hidden = !text;
}

// ---- sending ----------------------------------------------------------------------------

function sendText() {
  const box = $('message');
  const text = box.value;
  if (!active || !text.trim()) return;
  const to = active.id;
  const frame = { type: 'msg', to, text };
  const node = messageNode({ mine: true, text, ts: Date.now(), status: 'queued' });
  active.preview = `You: ${text}`;
  append(active, node);
  box.value = '';
  autosize();
  lastTypingSent = 0;
  if (utf8Length(JSON.stringify(frame)) + 16 > maxTextBytes) {
    setStatus(node, 'failed', `too long (the server takes up to ${formatSize(maxTextBytes)} per message)`);
  } else {
    outbox.send({ frame, node });
  }
  refresh();
}

async function sendFile(file) {
  if (!active) return;
  const contact = active;
  const frame = { to: contact.id, name: fitName(file.name || 'file') };
  if (file.type) frame.mime = file.type.slice(0, 127);
  const size = binaryFrameSize({ ...frame, cid: 'c0000000000' }, file.size);
  if (size > maxBinaryBytes) {
    notice(contact, `${file.name} is ${formatSize(file.size)}; the server accepts files up to ` +
      `${formatSize(maxBinaryBytes)}. It was not sent.`);
    return;
  }
  const payload = await file.arrayBuffer();
  const url = blobUrl(payload, frame.mime ?? '');
  const node = messageNode({
    mine: true, file: { name: frame.name, mime: frame.mime ?? '', size: file.size, url }, ts: Date.now(),
  });
  contact.preview = `You: file ${frame.name}`;
  append(contact, node);
  outbox.send({ frame, node, binary: true, payload });
  refresh();
}

function sendTyping() {
  const now = Date.now();
  if (!active || now - lastTypingSent < TYPING_EVERY_MS) return;
  if (connection.sendJson({ type: 'typing', to: active.id })) lastTypingSent = now;
}

function autosize() {
  const box = $('message');
  box.style.height = 'auto';
  box.style.height = `${Math.min(box.scrollHeight, 160)}px`;
}

// ---- page controls ----------------------------------------------------------------------

function connectAs(id) {
  if (!id) {
    showAlert('Enter an id to connect as.');
    return;
  }
  if (id === connection.id && connection.state !== 'offline') return;
  if (me !== null && id !== me) resetConversations();
  const url = new URL(window.location.href);
  url.searchParams.set('id', id);
  history.replaceState(null, '', url);
  connection.open(id);
}

function resetConversations() {
  me = null;
  active = null;
  outbox.clear();
  contacts.clear();
  $('log').replaceChildren();
  $('log').hidden = true;
  $('empty-state').hidden = false;
  $('peer-name').textContent = 'No conversation open';
  $('peer-status').textContent = '';
  $('online-count').textContent = '';
  $('app').dataset.view = 'list';
}

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
  if ($('message').value) sendTyping();
});

$('attach').addEventListener('click', () => $('file-input').click());
$('file-input').addEventListener('change', async () => {
  const files = [...$('file-input').files];
  $('file-input').value = '';
  for (const file of files) await sendFile(file);
});

$('back').addEventListener('click', () => {
  $('app').dataset.view = 'list';
  $('to').focus();
});
$('retry-now').addEventListener('click', () => connection.retryNow());

acceptDrops($('conversation'), $('drop-zone'), () => active !== null, async (files) => {
  for (const file of files) await sendFile(file);
});

document.addEventListener('visibilitychange', () => {
  if (!document.hidden && active) {
    active.unread = 0;
    refresh();
  }
});

const startId = new URLSearchParams(window.location.search).get('id');
if (startId) {
  $('my-id').value = startId;
  connectAs(startId);
} else {
  $('my-id').focus();
}
