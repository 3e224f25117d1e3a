// The people of the chat page: one entry per id, holding its conversation (a Thread), presence,
// typing state and the last message's preview, and the sidebar list that shows them. Touched only
// by the page's one thread.
import { el, paintAvatar } from './render.js';
import { Thread } from './thread.js';

const MAX_LISTED = 200; // the sidebar shows this many people at most, most recent first

export class Contacts {
  #byId = new Map();
  #list;
  #empty;
  #onPick;
  #unreadOf;

  /**
   * `list`: the <ul>; `empty`: shown when nobody is listed; `onPick(id)`: a person was chosen;
   * `unreadOf(contact)`: the unread count to show.
   */
  constructor(list, empty, onPick, unreadOf) {
    this.#list = list;
    this.#empty = empty;
    this.#onPick = onPick;
    this.#unreadOf = unreadOf;
  }

  get(id) { return this.#byId.get(id); }
  ids() { return [...this.#byId.keys()]; }
  get size() { return this.#byId.size; }

  /**
   * The entry for `id`, created on first use. `unread` counts messages without a seq (a server
   * without a store); with a store the client library counts them.
   */
  ensure(id) {
    let contact = this.#byId.get(id);
    if (!contact) {
      contact = { id, online: null, unread: 0, typing: false, thread: new Thread(), lastActive: 0, preview: '' };
      this.#byId.set(id, contact);
    }
    return contact;
  }

  clear() {
    this.#byId.clear();
    this.render(null);
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
    for (const contact of this.#byId.values()) total += this.#unreadOf(contact);
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
    const secondary = contact.typing ? 'typing…' : contact.preview || presence;
    const unread = this.#unreadOf(contact);
    const button = el('button', {
      type: 'button', class: 'contact', 'aria-current': active ? 'true' : null, 'data-id': contact.id,
    },
    el('span', { class: 'avatar-wrap' }, avatar,
      el('span', { class: `dot ${presence}`, title: presence })),
    el('span', { class: 'contact-text' },
      el('span', { class: 'contact-name' }, contact.id),
      el('span', { class: 'contact-preview' }, secondary)),
    el('span', { class: 'visually-hidden' }, `, ${presence}`),
    unread > 0
      ? el('span', { class: 'badge', 'aria-label': `${unread} unread` }, String(unread))
      : null);
    button.addEventListener('click', () => this.#onPick(contact.id));
    return el('li', {}, button);
  }
}
