// End to end against the real server (test/server.js starts it with the SQLite store): the
// library over real sockets, with `ws` as Node 20's WebSocket.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { WebSocket } from 'ws';
import { ParleyClient } from '../parley-client.js';
import { startServer } from './server.js';
import { until } from './fake-socket.js';

const dirs = [];
const servers = [];
after(async () => {
  for (const server of servers) await server.stop('SIGKILL');
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function dataDir() {
  const dir = mkdtempSync(path.join(tmpdir(), 'parley-client-'));
  dirs.push(dir);
  return dir;
}

async function server(dir) {
  const started = await startServer(dir);
  servers.push(started);
  return started;
}

// A client whose URL is read before each dial, so it follows a server restarted on a new port.
function client(id, target, { lazyWs = false } = {}) {
  const c = new ParleyClient({ url: () => target.url, id, WebSocket: lazyWs ? undefined : WebSocket, backoffBaseMs: 20,
    backoffMaxMs: 300, pingIntervalMs: 2000, idleTimeoutMs: 6000 });
  c.received = [];
  c.addEventListener('message', (e) => { if (!e.detail.mine) c.received.push(e.detail); });
  c.connect();
  return c;
}

const online = (c) => until(() => c.state === 'online', 10000);
const synced = (c) => new Promise((resolve) => c.addEventListener('synced', resolve, { once: true }));

function assertExactly(received, count, prefix) {
  const texts = received.map((m) => m.text);
  assert.equal(texts.length, count, `received ${texts.length} messages, expected ${count}`);
  assert.deepEqual(texts, Array.from({ length: count }, (_, i) => `${prefix}${i}`));
  assert.deepEqual(received.map((m) => m.seq), Array.from({ length: count }, (_, i) => i + 1));
}

test('a reconnect in the middle of a burst of 500 loses nothing and duplicates nothing', { timeout: 60000 }, async () => {
  const target = await server(dataDir());
  const bob = client('bob', target);
  const alice = client('alice', target);
  await Promise.all([online(bob), online(alice)]);
  const sent = Array.from({ length: 500 }, (_, i) => alice.send('bob', `m${i}`));
  // Both sockets are killed mid-burst, from inside the event that reaches the mark: Bob's at
  // the 150th message (the rest reach him by history or the inbox), Alice's at the 250th ack
  // (the server has read more than that: their retries are duplicates, acked as such).
  let acked = 0;
  alice.addEventListener('status', () => { if (++acked === 250) alice.dropConnection(); });
  let bobDropped = false;
  bob.addEventListener('message', () => {
    if (!bobDropped && bob.received.length === 150) { bobDropped = true; bob.dropConnection(); }
  });
  await until(() => sent.every((m) => m.state !== 'queued'), 30000);
  await until(() => bob.received.length >= 500 && bob.state === 'online', 30000);
  await new Promise((resolve) => setTimeout(resolve, 300)); // a late duplicate would show now
  assert.ok(bobDropped);
  const sources = {};
  for (const m of bob.received) sources[m.source] = (sources[m.source] ?? 0) + 1;
  const duplicates = sent.filter((m) => m.duplicate).length;
  console.log(`bob got ${JSON.stringify(sources)}; alice's retries acked as duplicates: ${duplicates}`);
  assert.ok(duplicates > 0, 'some retries reached the server twice');
  assert.ok(sent.every((m) => m.state === 'sent' || m.state === 'delivered'));
  bob.received.sort((a, b) => a.seq - b.seq);
  assertExactly(bob.received, 500, 'm');
  const { items } = await bob.listConversations();
  assert.equal(items.find((i) => i.with === 'alice').last_seq, 500, 'the server stored no duplicate');
  bob.close();
  alice.close();
  await target.stop();
});

test('a server restart (new process, same data dir) resumes; a new data dir resets the cursors', { timeout: 60000 }, async () => {
  const dir = dataDir();
  const target = { url: '' };
  let first = await server(dir);
  target.url = first.url;
  const bob = client('bob', target);
  const alice = client('alice', target);
  await Promise.all([online(bob), online(alice)]);
  for (let i = 0; i < 10; i++) alice.send('bob', `r${i}`);
  await until(() => bob.received.length === 10, 10000);
  const epoch = bob.epoch;
  assert.match(epoch, /^[0-9a-f]+$/);

  // Bob is away; the server dies (kill -9); Alice queues ten more while it is down.
  bob.close();
  await first.stop('SIGKILL');
  await until(() => alice.state !== 'online', 10000);
  const queued = Array.from({ length: 10 }, (_, i) => alice.send('bob', `r${i + 10}`));
  const second = await server(dir);
  target.url = second.url;
  await until(() => queued.every((m) => m.state === 'sent' || m.state === 'delivered'), 15000);
  const epochs = [];
  bob.addEventListener('epoch', (e) => epochs.push(e.detail));
  const resumed = synced(bob);
  bob.connect();
  await resumed;
  assert.equal(bob.epoch, epoch, 'same data dir, same epoch');
  assertExactly(bob.received, 20, 'r');
  assert.equal(bob.conversations.held('alice'), 20);
  assert.equal(bob.unread('alice'), 20);
  await until(() => queued.every((m) => m.state === 'delivered'), 10000); // the inbox's receipt

  // A new data dir: a new store, a new epoch; every cursor starts over.
  bob.markRead('alice', 20);
  await second.stop();
  const third = await server(dataDir());
  target.url = third.url;
  await until(() => epochs.length === 1 && bob.state === 'online', 15000);
  assert.notEqual(epochs[0].epoch, epoch);
  assert.equal(bob.conversations.held('alice'), 0);
  await online(alice);
  alice.send('bob', 'after');
  await until(() => bob.received.length === 21, 10000);
  assert.equal(bob.received[20].seq, 1, 'seq 1 again in the new store, not dropped as a duplicate');
  bob.close();
  alice.close();
  await third.stop();
});

test('read sync across tabs, receipts, files, presence, typing and who', { timeout: 30000 }, async () => {
  const target = await server(dataDir());
  const alice = client('alice', target);
  const bob = client('bob', target);
  const bobTab = client('bob', target, { lazyWs: true }); // Node 20: the library imports ws itself
  await Promise.all([online(alice), online(bob), online(bobTab)]);
  const presence = [];
  alice.addEventListener('presence', (e) => presence.push(e.detail));
  alice.watch(['bob', 'nobody']);
  await until(() => presence.length === 2, 10000);
  assert.equal(alice.online('bob'), true);
  assert.equal(alice.online('nobody'), false);
  const typing = [];
  alice.addEventListener('typing', (e) => typing.push(e.detail));
  bob.typing('alice');
  await until(() => typing.length === 1, 10000);
  assert.deepEqual([typing[0].from, typing[0].active], ['bob', true]);
  const who = await alice.who();
  assert.deepEqual([...who.online].sort(), ['alice', 'bob']);
  const message = alice.send('bob', 'read me');
  await until(() => bob.received.length === 1 && bobTab.received.length === 1, 10000);
  assert.equal(bobTab.unread('alice'), 1);
  const reads = [];
  bobTab.addEventListener('read', (e) => reads.push(e.detail));
  bob.markRead('alice', 1);
  await until(() => message.state === 'read' && reads.length === 1, 10000);
  assert.deepEqual(reads[0], { with: 'alice', seq: 1, unread: 0 });
  const file = await alice.sendFile('bob', new Uint8Array([0, 1, 2, 255]), { name: 'x.bin', mime: 'application/octet-stream' });
  await until(() => bob.received.length === 2, 10000);
  assert.deepEqual([...bob.received[1].file.data], [0, 1, 2, 255]);
  assert.equal(bob.received[1].file.name, 'x.bin');
  await until(() => file.state === 'delivered', 10000); // the ack follows the recipient's copy
  for (const c of [alice, bob, bobTab]) c.close();
  await target.stop();
});
