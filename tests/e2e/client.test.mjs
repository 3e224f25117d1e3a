// The client library (clients/js) in Chromium: loaded by path as ES modules, with the browser's
// own WebSocket and Blob, against the real parley with the SQLite store. The library's files are
// served under /lib/ on the server's origin by the test (playwright's request routing), so the
// socket is same-origin as a page that ships the library would be.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { launchBrowser, newPage, startServer } from './harness.mjs';

const LIBRARY = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../clients/js');
const dataDir = mkdtempSync(path.join(os.tmpdir(), 'parley-client-browser-'));
let server;
let browser;
after(async () => {
  await browser?.close();
  await server?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

test('parley-client in Chromium: text, a Blob file, receipts and read sync', { timeout: 60000 }, async () => {
  server = await startServer({ args: ['--store', 'sqlite', '--data-dir', dataDir] });
  browser = await launchBrowser();
  const { page, problems } = await newPage(browser);
  await page.route('**/lib/*.js', (route) => route.fulfill({ contentType: 'text/javascript',
    body: readFileSync(path.join(LIBRARY, path.basename(new URL(route.request().url()).pathname))) }));
  await page.goto(`${server.url}/`);
  const result = await page.evaluate(async (base) => {
    const { ParleyClient } = await import('/lib/parley-client.js');
    const until = async (predicate) => {
      for (const deadline = Date.now() + 10000; !predicate();) {
        if (Date.now() > deadline) throw new Error('timed out in the page');
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    };
    const make = (id) => {
      const client = new ParleyClient({ url: base, id });
      client.received = [];
      client.addEventListener('message', (e) => client.received.push(e.detail));
      client.connect();
      return client;
    };
    const alice = make('alice');
    const bob = make('bob');
    await until(() => alice.state === 'online' && bob.state === 'online');
    const text = alice.send('bob', 'from the browser');
    const file = await alice.sendFile('bob', new Blob([new Uint8Array([7, 8, 9])]), { name: 'b.bin', mime: 'application/x-test' });
    await until(() => bob.received.length === 2);
    bob.markRead('alice', 2);
    await until(() => text.state === 'read' && file.state === 'read');
    const got = bob.received[1];
    alice.close();
    bob.close();
    return { text: bob.received[0].text, seqs: bob.received.map((m) => m.seq), name: got.file.name,
      mime: got.file.mime, bytes: [...got.file.data], epoch: typeof bob.epoch };
  }, `ws://127.0.0.1:${server.port}`);
  assert.deepEqual(result, { text: 'from the browser', seqs: [1, 2], name: 'b.bin',
    mime: 'application/x-test', bytes: [7, 8, 9], epoch: 'string' });
  assert.deepEqual(problems, []);
});
