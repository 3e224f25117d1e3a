// The admin page (/admin, with --admin-token) in a real Chromium against a real parley server,
// and axe-core's WCAG 2.1 A/AA audit of the admin, welcome and chat pages.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { audit, connect, launchBrowser, newPage, openChat, screenshot, send, startServer } from './harness.mjs';

const TOKEN = 'e2e-admin-token';

let browser;
before(async () => {
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
});

/** A server (with `args`) and pages for one test, all closed after it. */
async function setup(t, args = ['--admin-token', TOKEN]) {
  const server = await startServer({ args });
  const pages = [];
  t.after(async () => {
    for (const p of pages) await p.close().catch(() => {});
    await server.stop();
  });
  const open = async () => {
    const p = await newPage(browser);
    pages.push(p);
    return p;
  };
  return { server, open };
}

async function signIn(page, url) {
  await page.goto(`${url}/admin`);
  await page.getByLabel('Admin token', { exact: true }).fill(TOKEN);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await page.locator('#status[data-state="ok"]').waitFor();
}

test('the admin page shows connections, ids and a message rate drawn from the counters', async (t) => {
  const { server, open } = await setup(t);
  const admin = await open();
  await signIn(admin.page, server.url);
  const alice = await open();
  const bob = await open();
  await connect(alice.page, server.url, 'alice');
  await connect(bob.page, server.url, 'bob');
  await openChat(alice.page, 'bob');
  for (let i = 0; i < 5; i++) await send(alice.page, `hello ${i}`);
  // Two samples make one rate; the tiles show the live counts.
  await admin.page.waitForFunction(() => Number(document.getElementById('chart').dataset.samples) >= 2,
    null, { timeout: 8000 });
  await admin.page.waitForFunction(() => document.getElementById('stat-connections').textContent === '2',
    null, { timeout: 5000 });
  assert.equal(await admin.page.locator('#stat-ids').textContent(), '2');
  const points = await admin.page.locator('#chart-line').getAttribute('points');
  assert.ok(points.split(' ').length >= 2, `the chart draws a line: ${points}`);
  assert.equal(await admin.page.getByRole('img', { name: /Messages received per second/ }).count(), 1);
  assert.equal(await admin.page.getByText('Rate-limit refusals', { exact: true }).count(), 1);
  assert.equal(await admin.page.getByText('Slow-consumer closes', { exact: true }).count(), 1);
  await screenshot(admin.page, 'admin.png');
  // The token stays for the tab's session: a reload needs no typing.
  await admin.page.reload();
  await admin.page.locator('#status[data-state="ok"]').waitFor();
  assert.equal(await admin.page.evaluate(() => sessionStorage.getItem('parley-admin-token')), TOKEN);
  assert.deepEqual(admin.problems, []);
});

test('the admin page looks up an id and kicks it', async (t) => {
  const { server, open } = await setup(t);
  const admin = await open();
  await signIn(admin.page, server.url);
  const carol = await open();
  await connect(carol.page, server.url, 'carol');
  await admin.page.getByLabel('Client id', { exact: true }).fill('carol');
  await admin.page.getByRole('button', { name: 'Look up', exact: true }).click();
  await admin.page.getByRole('table').getByText('carol: 1 connection').waitFor();
  assert.match(await admin.page.getByRole('table').locator('tbody td').first().textContent(), /^127\.0\.0\.1:\d+$/);
  await admin.page.getByRole('button', { name: 'Kick', exact: true }).click();
  await admin.page.getByText('Kicked carol: closed 1 connection').waitFor();
  assert.ok(server.log().includes('kick id=carol (1 connections closed)'), server.log());
  assert.deepEqual(admin.problems, []);
});

test('a wrong token is refused and the page asks again', async (t) => {
  const { server, open } = await setup(t);
  const admin = await open();
  await admin.page.goto(`${server.url}/admin`);
  await admin.page.getByLabel('Admin token', { exact: true }).fill('not-the-token');
  await admin.page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await admin.page.getByText('The server refused the token').waitFor();
  assert.equal(await admin.page.getByLabel('Admin token', { exact: true }).isVisible(), true);
  assert.equal(await admin.page.evaluate(() => sessionStorage.getItem('parley-admin-token')), null);
});

test('without --admin-token there is no admin page', async (t) => {
  const { server } = await setup(t, []);
  const response = await fetch(`${server.url}/admin`);
  assert.equal(response.status, 404);
});

test('axe: the admin page has no WCAG 2.1 A/AA violations, signed out and in', async (t) => {
  const { server, open } = await setup(t);
  const admin = await open();
  await admin.page.goto(`${server.url}/admin`);
  await audit(admin.page, 'admin (signed out)');
  await signIn(admin.page, server.url);
  await admin.page.getByLabel('Client id', { exact: true }).fill('nobody');
  await admin.page.getByRole('button', { name: 'Look up', exact: true }).click();
  await admin.page.getByRole('table').waitFor();
  await audit(admin.page, 'admin (signed in)');
});

test('axe: the welcome page and the chat page have no WCAG 2.1 A/AA violations', async (t) => {
  const { server, open } = await setup(t, []);
  const welcome = await open();
  await welcome.page.goto(`${server.url}/`);
  await audit(welcome.page, 'welcome');
  const dave = await open();
  await dave.page.goto(`${server.url}/static/chat.html`);
  await audit(dave.page, 'chat (signed out)');
  const erin = await open();
  await connect(dave.page, server.url, 'dave');
  await connect(erin.page, server.url, 'erin');
  await openChat(dave.page, 'erin');
  await send(dave.page, 'accessible hello');
  await audit(dave.page, 'chat (conversation)');
});
