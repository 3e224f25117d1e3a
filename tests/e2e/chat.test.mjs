// The chat page in a real Chromium against a real parley server (issue 3's scenarios).
// Each test starts its own server on 127.0.0.1 port 0; every wait is bounded.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  attach, BINARY, connect, scenario, drawPng, launchBrowser, log, newPage, openChat, restartServerOn, screenshot, send, startServer,
  waitForState,
} from './harness.mjs';

let browser;
before(async () => {
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
});

/** A server and pages for one test, all closed after it (even when it fails). */
async function setup(t) {
  const server = await startServer();
  const pages = [];
  t.after(async () => {
    for (const p of pages) await p.close().catch(() => {});
    await server.stop();
  });
  const open = async (id, options) => {
    const p = await newPage(browser, options);
    pages.push(p);
    if (id) await connect(p.page, server.url, id);
    return p;
  };
  return { server, open, pages };
}

/** Like setup, with the SQLite store in a temporary data dir (removed after the test). */
function setupStore(t) {
  return scenario(t, browser, { store: true });
}

/** Drops a file of `size` zero bytes, made in the page, onto the open conversation. */
function drop(page, name, size) {
  return page.locator('#conversation').evaluate((target, [fileName, fileSize]) => {
    const data = new DataTransfer();
    data.items.add(new File([new Uint8Array(fileSize)], fileName, { type: 'application/octet-stream' }));
    for (const type of ['dragenter', 'dragover', 'drop']) {
      target.dispatchEvent(new DragEvent(type, { dataTransfer: data, bubbles: true, cancelable: true }));
    }
  }, [name, size]);
}

function assertNoProblems(...pages) {
  for (const p of pages) assert.deepEqual(p.problems, []);
}

describe('welcome page', () => {
  test('says what Parley is and starts a chat as the chosen id', async (t) => {
    const { server, open } = await setup(t);
    const { page, problems } = await open(null);
    await page.goto(`${server.url}/`);
    await page.getByRole('heading', { level: 1 }).waitFor();
    assert.match(await page.title(), /Parley/);
    await screenshot(page, 'welcome.png');
    await page.getByLabel('Your ID', { exact: true }).fill('otter-7');
    await page.getByRole('button', { name: 'Start chatting' }).click();
    await page.waitForURL(/\/static\/chat\.html\?id=otter-7$/);
    await waitForState(page, 'online');
    assert.equal(await page.getByLabel('Your ID', { exact: true }).inputValue(), 'otter-7');
    assert.deepEqual(problems, []);
  });
});

describe('chat page', () => {
  test('two ids exchange messages both ways with the delivered mark', async (t) => {
    const { open } = await setup(t);
    const ada = await open('ada');
    const grace = await open('grace');

    await openChat(ada.page, 'grace');
    const first = await send(ada.page, 'Hi Grace! Is the build green?');
    await first.getByText('Delivered').waitFor();
    // grace had no conversation open: the incoming one opens by itself
    await log(grace.page).getByText('Hi Grace! Is the build green?').waitFor();
    await grace.page.getByRole('heading', { name: 'ada', exact: true }).waitFor();

    // typing indicator, then the reply
    await grace.page.getByLabel('Message', { exact: true }).fill('All green');
    await ada.page.getByText('grace is typing...').waitFor();
    const reply = await send(grace.page, 'All green, and the page reconnects by itself now');
    await reply.getByText('Delivered').waitFor();
    await log(ada.page).getByText('All green, and the page reconnects by itself now').waitFor();

    // Shift+Enter makes a new line, Enter sends
    const box = ada.page.getByLabel('Message', { exact: true });
    await box.fill('Great.');
    await box.press('Shift+Enter');
    await box.pressSequentially('Shipping it.');
    await box.press('Enter');
    await log(grace.page).getByText('Great.\nShipping it.').waitFor();
    assert.equal(await box.inputValue(), '');
    const last = ada.page.getByRole('log').locator('li.mine').last();
    await last.getByText('Delivered').waitFor();

    // a picture, shown inline on both sides
    await attach(grace.page, 'release-badge.png', 'image/png', await drawPng(grace.page, 240, 120, 'v0.1 shipped'));
    await log(ada.page).getByRole('img', { name: 'release-badge.png' }).waitFor();
    await send(ada.page, 'Nice badge!');
    await log(grace.page).getByText('Nice badge!').waitFor();

    // presence: each sees the other online
    await ada.page.getByRole('button', { name: /grace/ }).getByTitle('online').waitFor();
    await ada.page.getByRole('log').locator('li.mine').last().getByText('Delivered').waitFor();
    assert.equal(await ada.page.getByRole('button', { name: /grace/ }).getByLabel(/unread/).count(), 0,
      'the open conversation counts nothing unread');
    await screenshot(ada.page, 'conversation.png');
    assertNoProblems(ada, grace);
  });

  test('closing a page shows "Client #<id> left the chat" to the other within 1 s', async (t) => {
    const { open } = await setup(t);
    const a = await open('1001');
    const b = await open('6001');
    await openChat(a.page, '6001');
    await (await send(a.page, 'bye soon')).getByText('Delivered').waitFor();
    await log(b.page).getByText('bye soon').waitFor();

    const started = Date.now();
    await a.page.close();
    await log(b.page).getByText('Client #1001 left the chat').waitFor({ timeout: 1000 });
    const elapsed = Date.now() - started;
    assert.ok(elapsed <= 1000, `left shown after ${elapsed} ms`);
    assertNoProblems(b);
  });

  test('an image sent from one page appears in the other byte-identical', async (t) => {
    const { open } = await setup(t);
    const a = await open('alice');
    const b = await open('bob');
    await openChat(a.page, 'bob');
    await openChat(b.page, 'alice');

    const sent = await drawPng(a.page, 96, 64, 'Parley');
    await attach(a.page, 'badge.png', 'image/png', sent);
    await a.page.getByRole('log').locator('li.mine').last().getByText('Delivered').waitFor();

    const image = log(b.page).getByRole('img', { name: 'badge.png' });
    await image.waitFor();
    const received = await image.evaluate(async (img) => {
      await img.decode();
      const bytes = new Uint8Array(await (await fetch(img.src)).arrayBuffer());
      let binary = '';
      for (const byte of bytes) binary += String.fromCharCode(byte);
      return { base64: btoa(binary), width: img.naturalWidth, height: img.naturalHeight };
    });
    assert.equal(received.base64, sent.toString('base64'), 'payload differs from what was sent');
    assert.deepEqual([received.width, received.height], [96, 64]);
    assertNoProblems(a, b);
  });

  test('a file that is not an image arrives as a download link with name and size', async (t) => {
    const { open } = await setup(t);
    const a = await open('alice');
    const b = await open('bob');
    await openChat(a.page, 'bob');
    await openChat(b.page, 'alice');
    await attach(a.page, 'notes.txt', 'text/plain', Buffer.from('x'.repeat(2048)));
    const link = log(b.page).getByRole('link', { name: /notes\.txt/ });
    await link.waitFor();
    assert.match(await link.innerText(), /notes\.txt\s*2 KB/);
    assert.equal(await link.getAttribute('download'), 'notes.txt');

    // dropped onto the conversation
    await drop(a.page, 'dropped.txt', 13);
    await log(b.page).getByRole('link', { name: /dropped\.txt/ }).waitFor();

    // over the server's limit (8 MiB by default): refused before sending, with a clear message
    await drop(a.page, 'huge.bin', 8.5 * 1024 * 1024);
    await log(a.page).getByText(/huge\.bin is 8\.5 MB; the server accepts files up to 8 MB\. It was not sent\./)
      .waitFor();
    assert.equal(await log(b.page).getByText('huge.bin').count(), 0);
    assertNoProblems(a, b);
  });

  test('a message with HTML in it renders as text', async (t) => {
    const { open } = await setup(t);
    const a = await open('mallory');
    const b = await open('victim');
    await openChat(a.page, 'victim');
    const xss = '<img src=x onerror=alert(1)>';
    await (await send(a.page, xss)).getByText('Delivered').waitFor();
    const received = log(b.page).locator('li.theirs .text').last();
    await received.waitFor();
    assert.equal(await received.textContent(), xss);
    for (const p of [a, b]) {
      assert.equal(await log(p.page).locator('img').count(), 0, 'the message became an <img>');
    }
    await b.page.waitForTimeout(200); // give a would-be onerror time to fire
    assertNoProblems(a, b);
  });

  test('a message to an offline id shows the server error inline, and Retry re-sends it', async (t) => {
    const { open } = await setup(t);
    const a = await open('1001');
    await openChat(a.page, 'nobody-here');
    const mine = await send(a.page, 'anyone there?');
    await mine.getByText(/Not delivered: Client #nobody-here is not online/).waitFor();
    assert.equal(await mine.getAttribute('data-status'), 'failed');

    // meanwhile someone else writes: an unread count on their entry, cleared on opening it
    const c = await open('6002');
    await openChat(c.page, '1001');
    await (await send(c.page, 'ping from 6002')).getByText('Delivered').waitFor();
    const entry = a.page.getByRole('button', { name: /6002/ });
    await entry.getByLabel('1 unread').waitFor();
    await entry.click();
    await log(a.page).getByText('ping from 6002').waitFor();
    assert.equal(await a.page.getByRole('button', { name: /6002/ }).getByLabel(/unread/).count(), 0);

    // once nobody-here is online, Retry sends the failed message again, with the same cid
    const late = await open('nobody-here');
    await a.page.getByRole('button', { name: /nobody-here/ }).click();
    const cid = await mine.getAttribute('data-cid');
    await mine.getByRole('button', { name: 'Retry' }).click();
    await mine.getByText('Delivered').waitFor();
    assert.equal(await mine.getAttribute('data-cid'), cid);
    await log(late.page).getByText('anyone there?').waitFor();
    assertNoProblems(a, c, late);
  });

  test('with the store on: one tick while the recipient is away, two when their page opens, coloured once read', async (t) => {
    const { open } = await setupStore(t);
    const a = await open('1001');
    await openChat(a.page, 'later-6001');
    const mine = await send(a.page, 'read this when you are back');
    await mine.getByText('Sent').waitFor();
    assert.equal(await mine.getAttribute('data-status'), 'sent');
    assert.equal((await mine.locator('.tick').innerText()).trim(), '✓');

    // the recipient's page opens: the inbox hands it over, and the sender sees two ticks
    const b = await open('later-6001');
    await mine.getByText('Delivered').waitFor();
    assert.equal((await mine.locator('.tick').innerText()).trim(), '✓✓');
    const entry = b.page.getByRole('button', { name: /1001/ });
    await entry.getByLabel('1 unread').waitFor();
    await entry.getByText('read this when you are back').waitFor(); // the last message's preview
    assert.equal(await mine.getAttribute('data-status'), 'delivered', 'read before the reader opened it');

    // opened: under the "New messages" divider, and read (coloured, and said in words)
    await entry.click();
    const divider = log(b.page).getByRole('separator', { name: 'New messages' });
    await divider.waitFor();
    assert.equal(await divider.evaluate((node) => node.nextElementSibling.textContent.includes(
      'read this when you are back')), true);
    await mine.locator('.status', { hasText: /Read$/ }).waitFor();
    assert.equal(await mine.getAttribute('data-status'), 'read');
    const [readColour, deliveredColour] = await a.page.evaluate(() => [
      getComputedStyle(document.querySelector('li.mine[data-status="read"] .status')).color,
      getComputedStyle(document.documentElement).getPropertyValue('--ok')]);
    assert.notEqual(readColour, deliveredColour);
    assertNoProblems(a, b);
  });

  test('a bad id shows the server\'s reason', async (t) => {
    const { open, server } = await setup(t);
    const { page, problems } = await open(null);
    await page.goto(`${server.url}/static/chat.html`);
    await page.getByLabel('Your ID', { exact: true }).fill('not ok!');
    await page.getByRole('button', { name: 'Connect', exact: true }).click();
    await waitForState(page, 'offline');
    const alert = page.getByRole('alert');
    await alert.waitFor();
    assert.ok((await alert.innerText()).trim().length > 0);
    assert.deepEqual(problems, []);
  });

  test('a server restart mid-session: reconnecting, then working again without a reload', async (t) => {
    let server = await startServer();
    const pages = [];
    t.after(async () => {
      for (const p of pages) await p.close().catch(() => {});
      await server.stop();
    });
    const a = await newPage(browser);
    const b = await newPage(browser);
    pages.push(a, b);
    await connect(a.page, server.url, 'ada');
    await connect(b.page, server.url, 'grace');
    await openChat(a.page, 'grace');
    await (await send(a.page, 'before the restart')).getByText('Delivered').waitFor();
    await log(b.page).getByText('before the restart').waitFor();
    const pageUrl = a.page.url();

    const port = server.port;
    await server.stop();
    await waitForState(a.page, 'reconnecting', 3000);
    assert.match(await a.page.locator('#conn-status').innerText(), /Reconnecting in \d+ s/);
    // typed while down: queued, not lost
    const queued = await send(a.page, 'typed while the server was down');
    assert.equal(await queued.getAttribute('data-status'), 'queued');

    server = await restartServerOn(port);
    await waitForState(a.page, 'online', 15000);
    await waitForState(b.page, 'online', 15000);
    assert.equal(a.page.url(), pageUrl, 'the page was reloaded');
    // the queued message was sent on reconnect: delivered, or refused if grace was not back yet
    await a.page.locator('li.mine:is([data-status="delivered"], [data-status="failed"])')
      .filter({ hasText: 'typed while the server was down' }).waitFor();

    await (await send(a.page, 'after the restart')).getByText('Delivered').waitFor();
    await log(b.page).getByText('after the restart').waitFor();
    const back = await send(b.page, 'welcome back');
    await back.getByText('Delivered').waitFor();
    await log(a.page).getByText('welcome back').waitFor();
    assertNoProblems(a, b);
  });

  test('a 360 px wide viewport has no horizontal scroll', async (t) => {
    const { open, server } = await setup(t);
    const phone = await open(null, { viewport: { width: 360, height: 740 }, scale: 2 });
    const desk = await open('grace');
    const { page } = phone;
    const noHorizontalScroll = async (where) => {
      const widths = await page.evaluate(() => ({
        doc: document.documentElement.scrollWidth, body: document.body.scrollWidth, view: window.innerWidth,
      }));
      assert.ok(widths.doc <= widths.view && widths.body <= widths.view,
        `${where}: scroll width ${widths.doc}/${widths.body} > ${widths.view}`);
    };

    await page.goto(`${server.url}/`);
    await noHorizontalScroll('welcome page');
    await connect(page, server.url, 'ada');
    await noHorizontalScroll('chat page, list');
    await openChat(page, 'grace');
    await (await send(page, 'Sending this from my phone')).getByText('Delivered').waitFor();
    await openChat(desk.page, 'ada');
    await send(desk.page, 'Looks great on mobile! The list slides away and the chat gets the whole screen.');
    await log(page).getByText('Looks great on mobile!').waitFor();
    await page.getByLabel('Message', { exact: true }).fill('Shift+Enter for a new line');
    await noHorizontalScroll('chat page, conversation');
    await screenshot(page, 'mobile.png');
    await send(desk.page, 'A long link: ' +
      'https://example.invalid/a/very/long/path/without/any/spaces/that/could/overflow/a/narrow/screen');
    await send(desk.page, 'x'.repeat(300));
    await log(page).locator('li.theirs').nth(2).waitFor();
    await noHorizontalScroll('chat page, long words');
    await page.getByRole('button', { name: 'Record voice note' }).click();
    await page.getByRole('button', { name: 'Send voice note' }).waitFor();
    await noHorizontalScroll('chat page, recording a voice note');
    await page.getByRole('button', { name: 'Cancel recording' }).click();
    await page.getByRole('button', { name: 'Back to contacts' }).click();
    await page.getByLabel('To', { exact: true }).waitFor();
    await noHorizontalScroll('chat page, back to the list');
    assertNoProblems(phone, desk);
  });
});

describe('over TLS, with tokens', () => {
  /** A self-signed certificate for 127.0.0.1 made by the openssl command; removed after `t`. */
  function certificate(t) {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'parley-e2e-tls-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const cert = path.join(dir, 'cert.pem');
    const key = path.join(dir, 'key.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1',
      '-nodes', '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1',
      '-keyout', key, '-out', cert], { stdio: 'ignore' });
    return { cert, key };
  }

  test('the page served over HTTPS chats over wss:// with its ?token=, and a foreign token is refused', async (t) => {
    const secret = 'e2e-secret';
    const { cert, key } = certificate(t);
    const server = await startServer({ args: ['--tls-cert', cert, '--tls-key', key, '--auth-secret', secret] });
    const pages = [];
    t.after(async () => {
      for (const p of pages) await p.close().catch(() => {});
      await server.stop();
    });
    assert.match(server.url, /^https:/);
    const token = (id) => execFileSync(BINARY, ['token', '--sub', id, '--auth-secret', secret]).toString().trim();
    const open = async (id, tokenFor) => {
      const p = await newPage(browser, { ignoreHTTPSErrors: true });
      pages.push(p);
      await p.page.goto(`${server.url}/static/chat.html?id=${id}&token=${encodeURIComponent(token(tokenFor))}`);
      return p;
    };

    const ada = await open('ada', 'ada');
    const grace = await open('grace', 'grace');
    await waitForState(ada.page, 'online');
    await waitForState(grace.page, 'online');
    await openChat(ada.page, 'grace');
    const sent = await send(ada.page, 'Over TLS, signed in');
    await sent.getByText('Delivered').waitFor();
    await log(grace.page).getByText('Over TLS, signed in').waitFor();

    // A token for someone else: the server answers 401 and the page says why instead of redialing.
    const eve = await open('eve', 'ada');
    await waitForState(eve.page, 'offline');
    await eve.page.getByText('the token is for another id').waitFor();
    assertNoProblems(ada, grace, eve);
  });
});
