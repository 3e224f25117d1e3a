// Gapless resume after a welcome (docs/protocol.md, "History and resume"): list every
// conversation (paging with before_ts while `more`), apply what each item says (read cursor,
// unread count, the peer's receipts), then ask `history after` the held seq for each
// conversation whose last_seq is past it, paging while `more`. The messages that history sends
// arrive through the client's ordinary message path, which drops the ones already held.

/**
 * @typedef {object} ResumeContext
 * @property {(page: object) => Promise<{items: object[], more: boolean}>} listConversations
 * @property {(peer: string, page: object) => Promise<{count: number, more: boolean, first_seq: number}>} history
 * @property {import('./conversations.js').Conversations} conversations
 * @property {(item: object) => void} onItem called for each listed conversation (receipts)
 * @property {(items: object[]) => void} onListed called with the whole list, before any history
 * @property {number} pageSize 1 to 200
 */

/**
 * Runs one resume. Rejects when a request fails (the connection dropped: the next welcome
 * starts another).
 * @param {ResumeContext} context
 * @returns {Promise<object[]>} the listed conversations, newest activity first
 */
export async function resume(context) {
  const items = await listAll(context);
  const plan = [];
  for (const item of items) {
    const after = context.conversations.list(item);
    context.onItem(item);
    if (after !== null) plan.push([item.with, after]);
  }
  context.onListed(items);
  for (const [peer, after] of plan) await fetchAfter(context, peer, after);
  return items;
}

/** Every conversation, in pages of pageSize, older pages by the last item's `last_ts`. */
export async function listAll({ listConversations, pageSize }) {
  const items = [];
  let page = await listConversations({ limit: pageSize });
  items.push(...page.items);
  while (page.more && page.items.length > 0) {
    const before_ts = page.items[page.items.length - 1].last_ts;
    page = await listConversations({ limit: pageSize, before_ts });
    items.push(...page.items);
  }
  return items;
}

/**
 * Fetches a conversation's messages after `after` until the server says no more. Each page
 * starts after what is held by then; a page that moves nothing ends the loop (bounded even if
 * the server kept saying `more`).
 */
export async function fetchAfter({ history, conversations, pageSize }, peer, after) {
  for (let page = { more: true }; page.more;) {
    page = await history(peer, { after, limit: pageSize });
    if (page.first_seq > after + 1) conversations.skipTo(peer, page.first_seq); // retention
    const held = conversations.held(peer);
    if (page.count === 0 || held <= after) break;
    after = held;
  }
}
