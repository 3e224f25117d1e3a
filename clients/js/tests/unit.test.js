// The client's state machine against a fake socket: no server, no network.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ParleyClient, backoffDelay, encodeFile, decodeFile, Outbox, Conversations } from '../parley-client.js';
import { FakeSocket, until } from './fake-socket.js';

function events(client, type) {
  const seen = [];
  client.addEventListener(type, (event) => seen.push(event.detail));
  return seen;
}

// A client on the fake socket, with tiny delays, and its first socket welcomed.
async function online(options = {}) {
  const client = new ParleyClient({ url: 'ws://test', id: 'me', WebSocket: FakeSocket,
    backoffBaseMs: 1, backoffMaxMs: 4, ...options });
  const before = FakeSocket.made.length;
  client.connect();
  await until(() => FakeSocket.made.length > before && FakeSocket.last().onmessage);
  const socket = FakeSocket.last();
  socket.receive({ type: 'welcome', id: 'me', server_time: 1, epoch: options.epoch ?? 'E1' });
  return { client, socket };
}

async function redial(client, previous, welcome = {}) {
  previous.drop();
  await until(() => FakeSocket.last() !== previous && FakeSocket.last().onmessage);
  const socket = FakeSocket.last();
  socket.receive({ type: 'welcome', id: 'me', server_time: 2, epoch: 'E1', ...welcome });
  return socket;
}

test('backoff: full jitter under a ceiling that doubles from the base to the max', () => {
  const top = () => 0.999999;
  assert.equal(backoffDelay(0, {}, () => 0), 0);
  assert.ok(backoffDelay(0, {}, top) < 250);
  assert.ok(backoffDelay(1, {}, top) >= 499 && backoffDelay(1, {}, top) < 500);
  assert.ok(backoffDelay(6, {}, top) < 16000 && backoffDelay(6, {}, top) >= 15999);
  for (const attempt of [7, 8, 20, 1000]) assert.ok(backoffDelay(attempt, {}, top) < 30000);
  assert.ok(backoffDelay(1000, {}, top) >= 29999);
});

test('the URL carries the id and the token, and a function URL is asked per attempt', async () => {
  const asked = [];
  const client = new ParleyClient({ url: (n) => { asked.push(n); return 'ws://h:1/'; }, id: 'a b',
    token: async () => 't.k', WebSocket: FakeSocket, backoffBaseMs: 1 });
  client.connect();
  await until(() => FakeSocket.last()?.url.startsWith('ws://h:1'));
  assert.equal(FakeSocket.last().url, 'ws://h:1/ws/a%20b?token=t.k');
  FakeSocket.last().drop();
  await until(() => asked.length === 2);
  assert.deepEqual(asked, [0, 1]);
  client.close();
});

test('refusal: a dial that fails before any welcome asks why over HTTP; 400/401/403 stop the redials', async () => {
  const asked = [];
  const answer = { status: 401, body: 'the token is for another id' };
  const fetch = async (url) => {
    asked.push(url);
    return { status: answer.status, text: async () => answer.body };
  };
  const client = new ParleyClient({ url: 'wss://test', id: 'me', token: 't1', WebSocket: FakeSocket,
    backoffBaseMs: 1, backoffMaxMs: 4, fetch });
  const states = events(client, 'state');
  const before = FakeSocket.made.length;
  client.connect();
  await until(() => FakeSocket.made.length > before && FakeSocket.last().onclose);
  FakeSocket.last().drop();
  await until(() => states.some((s) => s.refused));
  assert.deepEqual(asked[0], 'https://test/ws/me?token=t1');
  assert.deepEqual(states.at(-1), { state: 'offline', code: 401, reason: 'the token is for another id', refused: true });
  const dials = FakeSocket.made.length;
  await new Promise((resolve) => setTimeout(resolve, 30));
  assert.equal(FakeSocket.made.length, dials, 'no redial after a refusal');

  // 426 (the server wanted the upgrade) or no answer: an outage, so the client keeps redialing;
  // after a welcome a failed dial is never asked about
  answer.status = 426;
  client.connect();
  await until(() => FakeSocket.made.length > dials && FakeSocket.last().onclose);
  FakeSocket.last().drop();
  await until(() => FakeSocket.made.length > dials + 1 && FakeSocket.last().onmessage);
  const socket = FakeSocket.last();
  socket.receive({ type: 'welcome', id: 'me', server_time: 1 });
  const askedBefore = asked.length;
  answer.status = 403;
  await redial(client, socket);
  assert.equal(asked.length, askedBefore);
  assert.equal(client.state, 'online');
  client.close();
});

test('outbox: a message queued offline is sent on welcome, and its retry keeps the cid', async () => {
  const { client, socket } = await online();
  client.close();
  const message = client.send('you', 'hello');
  assert.equal(message.state, 'queued');
  client.connect();
  await until(() => FakeSocket.last() !== socket && FakeSocket.last().onmessage);
  const first = FakeSocket.last();
  first.receive({ type: 'welcome', id: 'me', server_time: 1, epoch: 'E1' });
  const [sent] = first.frames('msg');
  assert.equal(sent.cid, message.cid);
  const second = await redial(client, first);
  const [resent] = second.frames('msg');
  assert.deepEqual(resent, sent);
  const statuses = events(client, 'status');
  second.receive({ type: 'ack', cid: sent.cid, mid: 'm1', seq: 1, ts: 5, status: 'stored', duplicate: true });
  assert.equal(message.state, 'sent');
  assert.equal(message.duplicate, true);
  assert.equal(statuses.length, 1);
  assert.equal(client.outbox.size, 0);
  client.close();
});

test('outbox: unavailable is retried with the same cid; inbox_full, bad_request and too_large fail', async () => {
  const { client, socket } = await online();
  const retried = client.send('you', 'a');
  socket.receive({ type: 'error', code: 'unavailable', cid: retried.cid, message: 'x' });
  await until(() => socket.frames('msg').length === 2);
  assert.deepEqual(socket.frames('msg').map((f) => f.cid), [retried.cid, retried.cid]);
  assert.equal(retried.state, 'queued');
  for (const code of ['inbox_full', 'bad_request']) {
    const failed = client.send('you', code);
    socket.receive({ type: 'error', code, cid: failed.cid, message: 'x' });
    assert.equal(failed.state, 'failed');
    assert.equal(failed.error, code);
  }
  const big = client.send('you', 'x'.repeat(65537));
  assert.equal(big.state, 'failed');
  assert.equal(big.error, 'too_large');
  client.close();
});

test('outbox: a failed message keeps the server\'s reason, and retry() re-sends it with its cid', async () => {
  const { client, socket } = await online();
  const states = [];
  client.addEventListener('status', (event) => states.push(event.detail.message.state));
  const message = client.send('ghost', 'are you there?');
  const [sent] = socket.frames('msg');
  socket.receive({ type: 'error', code: 'offline', cid: message.cid, message: 'Client #ghost is not online' });
  assert.deepEqual([message.state, message.error, message.reason],
    ['failed', 'offline', 'Client #ghost is not online']);
  assert.equal(client.retry(message), true);
  assert.equal(message.state, 'queued');
  assert.equal(message.error, undefined);
  assert.deepEqual(socket.frames('msg'), [sent, sent]);
  assert.equal(client.retry(message), false, 'only a failed message is retried');
  socket.receive({ type: 'ack', cid: message.cid, mid: 'm1', seq: 1, ts: 5, status: 'delivered' });
  assert.deepEqual(states, ['failed', 'queued', 'delivered']);
  const local = client.send('ghost', 'x'.repeat(65537));
  assert.equal(client.retry(local), false, 'a text too large for the server never entered the outbox');
  client.close();
});

test('outbox: failed messages kept for retry are bounded like the queue', () => {
  const outbox = new Outbox({ maxCount: 2, maxBytes: 100 });
  for (const cid of ['a', 'b', 'c']) {
    outbox.add({ cid, state: 'queued' }, cid, 1);
    outbox.error(cid, 'bad_request', 'no');
  }
  assert.equal(outbox.retry('a'), false, 'the oldest was forgotten');
  assert.equal(outbox.retry('b'), true);
  assert.equal(outbox.retry('c'), true);
  assert.deepEqual(outbox.takeUnsent(), ['b', 'c']);
});

test('outbox: bounded in count and in bytes', () => {
  const outbox = new Outbox({ maxCount: 2, maxBytes: 10 });
  outbox.add({ cid: 'a', state: 'queued' }, 'aaaa', 4);
  assert.throws(() => outbox.add({ cid: 'b', state: 'queued' }, 'b'.repeat(7), 7), RangeError);
  outbox.add({ cid: 'b', state: 'queued' }, 'bbbb', 4);
  assert.throws(() => outbox.add({ cid: 'c', state: 'queued' }, 'c', 1), RangeError);
  assert.equal(outbox.size, 2);
  assert.equal(outbox.bytes, 8);
});

test('receipts: a cumulative receipt covers every seq up to it; read after delivered', async () => {
  const { client, socket } = await online();
  const messages = [1, 2, 3].map((n) => client.send('you', `m${n}`));
  for (const [i, m] of messages.entries()) {
    socket.receive({ type: 'ack', cid: m.cid, mid: `x${i}`, seq: i + 1, ts: 1, status: 'stored' });
  }
  assert.deepEqual(messages.map((m) => m.state), ['sent', 'sent', 'sent']);
  assert.equal(client.conversations.held('you'), 3, 'my own acked messages are held');
  socket.receive({ type: 'receipt', with: 'you', seq: 2, status: 'delivered' });
  assert.deepEqual(messages.map((m) => m.state), ['delivered', 'delivered', 'sent']);
  socket.receive({ type: 'receipt', with: 'you', seq: 3, status: 'read' });
  assert.deepEqual(messages.map((m) => m.state), ['read', 'read', 'read']);
  // a receipt that arrives before the ack applies when the ack comes
  const late = client.send('you', 'late');
  socket.receive({ type: 'receipt', with: 'you', seq: 4, status: 'delivered' });
  socket.receive({ type: 'ack', cid: late.cid, mid: 'y', seq: 4, ts: 1, status: 'stored' });
  assert.equal(late.state, 'delivered');
  client.close();
});

test('dedup: a message that arrives live and again through history is emitted once', async () => {
  const { client, socket } = await online();
  const seen = events(client, 'message');
  const frame = { type: 'msg', from: 'you', to: 'me', text: 'hi', mid: 'm', seq: 1, ts: 1 };
  socket.receive(frame);
  socket.receive({ type: 'inbox', count: 0, more: false });
  socket.receive(frame);
  socket.receive({ ...frame, seq: 3, mid: 'm3' });
  socket.receive({ ...frame, seq: 2, mid: 'm2' });
  socket.receive({ ...frame, seq: 3, mid: 'm3' });
  assert.deepEqual(seen.map((m) => m.seq), [1, 3, 2]);
  assert.equal(seen[0].source, 'inbox');
  assert.equal(client.conversations.held('you'), 3);
  assert.equal(client.unread('you'), 3);
  client.close();
});

test('resume: conversations paged by before_ts, then history after what is held, paged', async () => {
  const { client, socket } = await online();
  socket.receive({ type: 'msg', from: 'a', to: 'me', text: 'x', mid: 'a1', seq: 1, ts: 1 });
  socket.receive({ type: 'msg', from: 'a', to: 'me', text: 'x', mid: 'a2', seq: 2, ts: 1 });
  socket.receive({ type: 'inbox', count: 2, more: false });
  const [page1] = socket.frames('conversations');
  assert.equal(page1.before_ts, undefined);
  const item = (peer, last_seq, last_ts) => ({ with: peer, last_seq, last_ts, unread: 0, read: 0,
    delivered: last_seq, peer_read: 0, peer_delivered: 0 });
  socket.receive({ type: 'conversations', cid: page1.cid, items: [item('a', 5, 30), item('b', 2, 20)], more: true });
  await until(() => socket.frames('conversations').length === 2);
  const page2 = socket.frames('conversations')[1];
  assert.equal(page2.before_ts, 20);
  socket.receive({ type: 'conversations', cid: page2.cid, items: [item('c', 1, 10), item('d', 0, 5)], more: false });
  await until(() => socket.frames('history').length === 1);
  let [h] = socket.frames('history');
  assert.deepEqual([h.with, h.after], ['a', 2]);
  socket.receive({ type: 'msg', from: 'a', to: 'me', text: 'x', mid: 'a3', seq: 3, ts: 1 });
  socket.receive({ type: 'history', with: 'a', cid: h.cid, count: 1, more: true, first_seq: 1 });
  await until(() => socket.frames('history').length === 2);
  h = socket.frames('history')[1];
  assert.deepEqual([h.with, h.after], ['a', 3]);
  const synced = events(client, 'synced');
  for (const [peer, next] of [['a', ['b', 0]], ['b', ['c', 0]], ['c', null]]) {
    socket.receive({ type: 'history', with: peer, cid: h.cid, count: 0, more: false, first_seq: 1 });
    if (!next) break;
    await until(() => socket.frames('history').at(-1).with === next[0]);
    h = socket.frames('history').at(-1);
    assert.equal(h.after, next[1]);
  }
  await until(() => synced.length === 1);
  assert.equal(socket.frames('history').filter((f) => f.with === 'd').length, 0);
  client.close();
});

test('epoch: a new store resets every cursor and held seq, and says so', async () => {
  const { client, socket } = await online();
  socket.receive({ type: 'msg', from: 'you', to: 'me', text: 'x', mid: 'm', seq: 7, ts: 1 });
  const epochs = events(client, 'epoch');
  await redial(client, socket, { epoch: 'E1' });
  assert.equal(epochs.length, 0);
  assert.equal(client.conversations.get('you').lastSeq, 7);
  const third = await redial(client, FakeSocket.last(), { epoch: 'E2' });
  assert.deepEqual(epochs, [{ previous: 'E1', epoch: 'E2' }]);
  assert.equal(client.conversations.get('you'), undefined);
  const seen = events(client, 'message');
  third.receive({ type: 'msg', from: 'you', to: 'me', text: 'x', mid: 'n', seq: 7, ts: 1 });
  assert.equal(seen.length, 1);
  client.close();
});

test('read markers: markRead sends read once; another tab`s read frame moves the cursor', async () => {
  const { client, socket } = await online();
  for (const seq of [1, 2, 3]) socket.receive({ type: 'msg', from: 'you', to: 'me', text: 'x', mid: `m${seq}`, seq, ts: 1 });
  socket.receive({ type: 'msg', from: 'me', to: 'you', text: 'mine', mid: 'm4', seq: 4, ts: 1 });
  assert.equal(client.unread('you'), 3);
  const reads = events(client, 'read');
  client.markRead('you', 2);
  client.markRead('you', 1);
  assert.deepEqual(socket.frames('read'), [{ type: 'read', with: 'you', seq: 2 }]);
  assert.equal(client.unread('you'), 1);
  socket.receive({ type: 'read', with: 'you', seq: 4 });
  assert.equal(client.unread('you'), 0);
  assert.deepEqual(reads.map((r) => r.seq), [2, 4]);
  client.close();
});

test('unread: the count the server listed, shrunk by reads, plus newer messages', () => {
  const conversations = new Conversations();
  conversations.list({ with: 'p', last_seq: 10, last_ts: 1, unread: 4, read: 6 });
  assert.equal(conversations.unread('p'), 4);
  conversations.receive('p', 11, true);
  assert.equal(conversations.unread('p'), 5);
  conversations.markRead('p', 9);
  assert.equal(conversations.unread('p'), 2);
  conversations.markRead('p', 11);
  assert.equal(conversations.unread('p'), 0);
});

test('presence is re-watched after a reconnect; typing is throttled and expires', async () => {
  const { client, socket } = await online({ typingThrottleMs: 1000, typingExpiryMs: 20 });
  client.watch(['x', 'y']);
  const second = await redial(client, socket);
  assert.deepEqual(second.frames('watch'), [{ type: 'watch', ids: ['x', 'y'] }]);
  client.typing('x');
  client.typing('x');
  assert.equal(second.frames('typing').length, 1);
  const typing = events(client, 'typing');
  second.receive({ type: 'typing', from: 'x' });
  await until(() => typing.length === 2);
  assert.deepEqual(typing.map((t) => t.active), [true, false]);
  second.receive({ type: 'presence', id: 'x', online: false });
  assert.equal(client.online('x'), false);
  client.close();
});

test('liveness: pings while online, and redials when no frame comes for idleTimeoutMs', async () => {
  const { client, socket } = await online({ pingIntervalMs: 10, idleTimeoutMs: 200 });
  const states = events(client, 'state');
  await until(() => FakeSocket.last() !== socket, 5000);
  assert.ok(socket.frames('ping').length >= 2, 'pings every pingIntervalMs');
  assert.equal(states[0].state, 'offline');
  assert.equal(states[0].reason, 'no frame from the server');
  client.close();
});

test('files: the 2-byte header layout, both ways, and a received file is a message', async () => {
  const frame = encodeFile({ to: 'you', name: 'a.bin', cid: 'c' }, new Uint8Array([1, 2, 3]));
  const header = JSON.stringify({ to: 'you', name: 'a.bin', cid: 'c' });
  assert.equal((frame[0] << 8) | frame[1], header.length);
  const decoded = decodeFile(frame.buffer);
  assert.deepEqual(decoded.header, { to: 'you', name: 'a.bin', cid: 'c' });
  assert.deepEqual([...decoded.payload], [1, 2, 3]);
  assert.throws(() => decodeFile(new Uint8Array([0, 9, 1])));
  const { client, socket } = await online();
  const seen = events(client, 'message');
  socket.receiveBinary(encodeFile({ from: 'you', to: 'me', name: 'n', mime: 'a/b', mid: 'm', seq: 1, ts: 1 },
    new Uint8Array([9])));
  assert.equal(seen[0].file.name, 'n');
  assert.deepEqual([...seen[0].file.data], [9]);
  const sent = await client.sendFile('you', new Blob([new Uint8Array([4, 5])]), { name: 'b' });
  const written = decodeFile(socket.sent.at(-1));
  assert.deepEqual(written.header, { to: 'you', name: 'b', cid: sent.cid });
  assert.deepEqual([...written.payload], [4, 5]);
  client.close();
});

test('retention: history that starts past what is held moves the held seq to it', () => {
  const conversations = new Conversations();
  conversations.receive('p', 9, true);
  conversations.skipTo('p', 8); // seq 8 is still kept: held stops before it
  assert.equal(conversations.held('p'), 7);
  conversations.skipTo('p', 9); // history starts at 9, which is held already
  assert.equal(conversations.held('p'), 9);
  conversations.skipTo('p', 3);
  assert.equal(conversations.held('p'), 9);
});

test('backfill none: a conversation first seen is held from just before its first message', () => {
  const conversations = new Conversations({ backfill: 'none' });
  assert.equal(conversations.receive('p', 40, true), true);
  assert.equal(conversations.held('p'), 40);
  assert.equal(conversations.list({ with: 'q', last_seq: 7, last_ts: 1, unread: 2, read: 5 }), null);
  assert.equal(conversations.list({ with: 'p', last_seq: 42, last_ts: 1, unread: 2, read: 0 }), 40);
  // an older page the application asks for (scrolling up) is emitted once, and moves nothing
  assert.equal(conversations.receive('p', 39, true), true);
  assert.equal(conversations.receive('p', 39, true), false);
  assert.equal(conversations.held('p'), 40);
  // a conversation first known by a read cursor (another tab read it) starts there
  conversations.markRead('r', 12);
  assert.equal(conversations.held('r'), 12);
});
