// DOM builders for the chat page. Every piece of user or server text goes in through
// textContent or an attribute, never as HTML: a message `<img src=x onerror=alert(1)>` stays text.

/** Raster image types shown inline; anything else (SVG included) is offered as a download. */
const INLINE_IMAGE_TYPES = new Set([
  'image/png', 'image/jpeg', 'image/gif', 'image/webp', 'image/avif', 'image/bmp',
]);

/** `el('li', {class: 'x'}, child, 'text')`: an element with attributes and children. */
export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    node.setAttribute(name, value === true ? '' : String(value));
  }
  node.append(...children.filter((c) => c !== null && c !== undefined));
  return node;
}

/** 1536 -> "1.5 KB", 8388608 -> "8 MB" (binary multiples, as most chat apps show them). */
export function formatSize(bytes) {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KB', 'MB', 'GB'];
  let value = bytes;
  let unit = -1;
  do {
    value /= 1024;
    unit += 1;
  } while (value >= 1024 && unit < units.length - 1);
  const shown = value < 10 ? value.toFixed(1).replace(/\.0$/, '') : Math.round(value).toString();
  return `${shown} ${units[unit]}`;
}

/** Server time in ms -> "14:05" in the reader's locale. */
export function formatTime(ms) {
  const date = new Date(typeof ms === 'number' ? ms : Date.now());
  return date.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
}

/** A stable hue for an id, so each person keeps their colour. */
export function hueOf(id) {
  let hash = 0;
  for (const ch of id) hash = (hash * 31 + ch.codePointAt(0)) >>> 0;
  return hash % 360;
}

/** Fills an avatar span with the id's initials and colour. */
export function paintAvatar(node, id) {
  node.textContent = id.replace(/[^A-Za-z0-9]/g, '').slice(0, 2).toUpperCase() || '#';
  node.style.setProperty('--hue', hueOf(id));
}

/** What each state of one of my messages says, for eyes and for screen readers alike. */
export const STATUS_TEXT = {
  queued: 'Waiting for connection',
  sent: 'Sent', // stored by the server; the recipient has not got it yet
  delivered: 'Delivered',
  read: 'Read',
  failed: 'Not delivered',
};
const TICKS = { sent: '✓', delivered: '✓✓', read: '✓✓' };

/**
 * A message bubble. `message`: {mine, text?, file?: {name, size, mime, url}, ts, from}.
 * Returns the <li>; own messages carry a `.status` span that setStatus updates.
 */
export function messageNode(message) {
  const body = message.file ? fileBody(message.file) : el('p', { class: 'text' }, message.text);
  const meta = el('p', { class: 'meta' }, el('time', {}, formatTime(message.ts)));
  if (message.mine) meta.append(el('span', { class: 'status' }));
  // role="log" on the list takes its list semantics away: each message is an article in it.
  const node = el('li', { class: `msg ${message.mine ? 'mine' : 'theirs'}`, role: 'article' },
    el('span', { class: 'visually-hidden' }, message.mine ? 'You: ' : `${message.from}: `),
    el('div', { class: 'bubble' }, body), meta);
  if (message.mine) setStatus(node, message.status ?? 'queued');
  return node;
}

/**
 * Shows an own message's state as text (the ticks are decoration, hidden from screen readers).
 * `detail` explains a failure; `onRetry`, when given, adds a Retry button.
 */
export function setStatus(node, status, detail = '', onRetry = null) {
  if (node.dataset.status === status && !detail && !onRetry) return;
  node.dataset.status = status;
  const span = node.querySelector('.status');
  span.replaceChildren(detail ? `${STATUS_TEXT[status]}: ${detail}` : STATUS_TEXT[status]);
  if (TICKS[status]) span.prepend(el('span', { class: 'tick', 'aria-hidden': 'true' }, `${TICKS[status]} `));
  if (onRetry) {
    const button = el('button', { type: 'button', class: 'link-button retry' }, 'Retry');
    button.addEventListener('click', onRetry);
    span.append(' ', button);
  }
}

/** The "New messages" line above what arrived while the reader was away. */
export function dividerNode() {
  return el('li', { class: 'divider', role: 'separator', 'aria-label': 'New messages' },
    el('span', { 'aria-hidden': 'true' }, 'New messages'));
}

/** A centred line in a conversation ("Client #1001 left the chat"); `tone` error for problems. */
export function systemNode(text, tone = 'info') {
  return el('li', { class: `msg system ${tone}`, role: 'article' }, el('p', {}, text));
}

function fileBody(file) {
  if (INLINE_IMAGE_TYPES.has(file.mime)) {
    return el('a', { class: 'image-link', href: file.url, download: file.name, title: file.name },
      el('img', { class: 'image', src: file.url, alt: file.name }));
  }
  const player = playerTag(file.mime);
  if (player) {
    return el('figure', { class: `media ${player}` },
      el(player, { controls: true, preload: 'metadata', src: file.url, 'aria-label': file.name }),
      el('figcaption', {}, downloadLink(file, 'media-link')));
  }
  return downloadLink(file, 'file');
}

function downloadLink(file, className) {
  return el('a', { class: className, href: file.url, download: file.name },
    fileIcon(),
    el('span', { class: 'file-text' }, el('span', { class: 'file-name' }, file.name),
      el('span', { class: 'file-size' }, formatSize(file.size))));
}

/** 'audio' or 'video' when this browser can play the type inline, else null (a download). */
function playerTag(mime) {
  const kind = /^(audio|video)\//.exec(mime)?.[1];
  if (!kind) return null;
  return document.createElement(kind).canPlayType(mime) ? kind : null;
}

function fileIcon() {
  const svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('class', 'file-icon');
  svg.setAttribute('aria-hidden', 'true');
  const path = document.createElementNS('http://www.w3.org/2000/svg', 'path');
  path.setAttribute('d', 'M14 3H7a2 2 0 0 0-2 2v14a2 2 0 0 0 2 2h10a2 2 0 0 0 2-2V8zM14 3v5h5');
  svg.append(path);
  return svg;
}

/**
 * A blob: URL for a file's bytes. Types shown inline (raster images, audio and video this browser
 * plays) keep their type; the rest (SVG, HTML...) become opaque bytes that can only download.
 */
export function blobUrl(bytes, mime) {
  const type = INLINE_IMAGE_TYPES.has(mime) || playerTag(mime) ? mime : 'application/octet-stream';
  return URL.createObjectURL(new Blob([bytes], { type }));
}
