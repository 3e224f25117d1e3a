// The people of the chat page: one entry per id, holding its conversation (the message nodes,
// kept while another conversation is shown), presence, unread count and typing state,
// and the sidebar list that shows them.
import { el, paintAvatar } from './render.js';

const TYPING_SHOWN_MS = 3000; // a `typing` keeps "X is typing..." up this long
const MAX_LISTED = 200; // the sidebar shows this many people at most, most recent first

export class Contacts {
  #byId = new Map();
  #list;
  #empty;
  #onPick;

  /** `list`: the <ul>; `empty`: shown when nobody is listed; `onPick(id)`: a person was chosen. */
  constructor(list, empty, onPick) {
    this.#list = list;
    this.#empty = empty;
    this.#onPick = onPick;
  }

  get(id) { return this.#byId.get(id); }
  ids() { return [...this.#byId.keys()]; }
  get size() { return this.#byId.size; }

  /** The entry for `id`, created on first use. `created` tells the caller to watch it. */
  ensure(id) {
    let contact = this.#byId.get(id);
    if (!contact) {
      contact = { id, online: null, unread: 0, typingUntil: 0, nodes: [], lastActive: 0, preview: '' };
      this.#byId.set(id, contact);
    }
    return contact;
  }

  clear() {
    this.#byId.clear();
    this.render(null);
  }

  /** Marks `id` as typing now; returns how long the indicator should stay. */
  typing(contact) {
    contact.typingUntil = Date.now() + TYPING_SHOWN_MS;
    return TYPING_SHOWN_MS;
  }

  isTyping(contact) {
    return contact.typingUntil > Date.now();
  }

  /** How many listed people are online now. */
  onlineCount() {
    let count = 0;
    for (const contact of this.#byId.values()) count += contact.online === true ? 1 : 0;
    return count;
  }

  /** Total unread messages, for the window title. */
  unreadTotal() {
    let total = 0;
    for (const contact of this.#byId.values()) total += contact.unread;
    return total;
  }

  /** Redraws the sidebar; `activeId` is marked as the open conversation. */
  render(activeId) {
    const people = [...this.#byId.values()].sort(
      (a, b) => b.lastActive - a.lastActive || Number(b.online === true) - Number(a.online === true) ||
        a.id.localeCompare(b.id, undefined, { numeric: true }));
    const items = people.slice(0, MAX_LISTED).map((contact) => this.#item(contact, contact.id === activeId));
    this.#list.replaceChildren(...items);
    this.#empty.hidden = items.length > 0;
  }

  #item(contact, active) {
    const avatar = el('span', { class: 'avatar', 'aria-hidden': 'true' });
    paintAvatar(avatar, contact.id);
    const presence = contact.online === null ? 'unknown' : contact.online ? 'online' : 'offline';
    const secondary = this.isTyping(contact) ? 'typing…' : contact.preview || presence;
    const button = el('button', {
      type: 'button', class: 'contact', 'aria-current': active ? 'true' : null, 'data-id': contact.id,
    },
    el('span', { class: 'avatar-wrap' }, avatar,
      el('span', { class: `dot ${presence}`, title: presence })),
    el('span', { class: 'contact-text' },
      el('span', { class: 'contact-name' }, contact.id),
      el('span', { class: 'contact-preview' }, secondary)),
    el('span', { class: 'visually-hidden' }, `, ${presence}`),
    contact.unread > 0
      ? el('span', { class: 'badge', 'aria-label': `${contact.unread} unread` }, String(contact.unread))
      : null);
    button.addEventListener('click', () => this.#onPick(contact.id));
    return el('li', {}, button);
  }
}
