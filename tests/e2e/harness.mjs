// Shared parts of the browser tests: start and stop a real parley server on 127.0.0.1 port 0,
// launch Debian's Chromium through playwright-core, and drive the chat page by accessible names.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));

export const BINARY = process.env.PARLEY_BINARY || path.resolve(here, '../../build/parley');
export const STATIC_DIR = process.env.PARLEY_STATIC_DIR || path.resolve(here, '../../build/web');
export const SCREENSHOT_DIR =
  process.env.PARLEY_SCREENSHOT_DIR || path.join(os.tmpdir(), 'parley-e2e-screenshots');
// Set to 1 to also refresh the README's copies in docs/screenshots/.
const DOCS_SCREENSHOT_DIR = process.env.PARLEY_UPDATE_DOCS_SCREENSHOTS === '1'
  ? path.resolve(here, '../../docs/screenshots') : null;

const CHROMIUM = process.env.PARLEY_CHROMIUM || '/usr/bin/chromium';
// The fake media flags give getUserMedia a generated beep without asking (voice notes); the
// autoplay policy lets a test start an <audio> from script to prove it plays.
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream',
  '--autoplay-policy=no-user-gesture-required'];
const AXE = path.join(here, 'node_modules', 'axe-core', 'axe.min.js');
const WCAG21_AA = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];
const LISTENING = /listening on (https?):\/\/127\.0\.0\.1:(\d+)/;
const START_TIMEOUT_MS = 10000;
const STOP_TIMEOUT_MS = 5000;

/** Default bound for waiting on something the page should show. */
export const SHOW_TIMEOUT_MS = 5000;

/**
 * Starts parley and resolves once it logs its port: {port, url, stop()}. Short liveness settings
 * so a test never waits on the defaults. Rejects (and kills it) when no port shows in 10 s.
 */
export function startServer({ port = 0, args = [] } = {}) {
  if (!existsSync(BINARY)) throw new Error(`parley binary not found at ${BINARY} (set PARLEY_BINARY)`);
  // The page is tested against protocol v1: no store unless a test asks for one.
  const store = args.includes('--store') ? [] : ['--store', 'none'];
  const child = spawn(BINARY, ['--port', String(port), '--static-dir', STATIC_DIR,
    '--ping-interval', '5', '--ping-timeout', '5', ...store, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`parley did not report its port within ${START_TIMEOUT_MS} ms:\n${log}`));
    }, START_TIMEOUT_MS);
    const onData = (chunk) => {
      log += chunk;
      const match = LISTENING.exec(log);
      if (!match) return;
      clearTimeout(timer);
      const actual = Number(match[2]);
      resolve({
        port: actual,
        url: `${match[1]}://127.0.0.1:${actual}`,
        log: () => log,
        stop: () => stopProcess(child, exited),
      });
    };
    child.stdout.setEncoding('utf8').on('data', onData);
    child.stderr.setEncoding('utf8').on('data', onData);
    exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`parley exited (${code ?? signal}) before listening:\n${log}`));
    });
  });
}

/** SIGTERM, then SIGKILL if it has not exited within 5 s. */
async function stopProcess(child, exited) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
  await exited;
  clearTimeout(timer);
}

/**
 * Starts parley on a port just freed by another instance (with the same `args`, e.g. its data
 * dir); retries while the port is busy.
 */
export async function restartServerOn(port, args = []) {
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    try {
      return await startServer({ port, args });
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

export function launchBrowser() {
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, timeout: 30000 });
}

/**
 * A new browser context with one page, failing the test on any page error or dialog
 * (an `alert` would mean user text ran as HTML). Returns {page, problems, close()}.
 */
export async function newPage(browser, { viewport = { width: 1280, height: 800 }, scale = 1,
  ignoreHTTPSErrors = false } = {}) {
  const context = await browser.newContext({ viewport, deviceScaleFactor: scale, ignoreHTTPSErrors });
  context.setDefaultTimeout(SHOW_TIMEOUT_MS);
  const page = await context.newPage();
  const problems = [];
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('dialog', (dialog) => {
    problems.push(`dialog: ${dialog.type()} ${dialog.message()}`);
    dialog.dismiss().catch(() => {});
  });
  return { page, problems, close: () => context.close() };
}

/** Opens the chat page, connects as `id` through the form, and waits for "Online". */
export async function connect(page, serverUrl, id) {
  await page.goto(`${serverUrl}/static/chat.html`);
  await page.getByLabel('Your ID', { exact: true }).fill(id);
  await page.getByRole('button', { name: 'Connect', exact: true }).click();
  await waitForState(page, 'online');
}

/** Waits until the connection pill shows `state` (online, reconnecting, offline...). */
export function waitForState(page, state, timeout = SHOW_TIMEOUT_MS) {
  return page.locator(`#conn-status[data-state="${state}"]`).waitFor({ timeout });
}

/** Opens the conversation with `id` through the "To" field. */
export async function openChat(page, id) {
  const to = page.getByLabel('To', { exact: true });
  await to.fill(id);
  await to.press('Enter');
  await page.getByRole('heading', { name: id, exact: true }).waitFor();
}

/** Types `text` in "Message" and clicks "Send"; returns the locator of the new own message. */
export async function send(page, text) {
  await page.getByLabel('Message', { exact: true }).fill(text);
  await page.getByRole('button', { name: 'Send', exact: true }).click();
  return page.getByRole('log').locator('li.mine').filter({ hasText: text }).last();
}

/** Picks a file through the "Attach file" button's file chooser. */
export async function attach(page, name, mimeType, buffer) {
  const [chooser] = await Promise.all([
    page.waitForEvent('filechooser'),
    page.getByRole('button', { name: 'Attach file', exact: true }).click(),
  ]);
  await chooser.setFiles({ name, mimeType, buffer });
}

/** A real PNG (width x height) drawn by the page's canvas, as a Buffer. */
export async function drawPng(page, width, height, label) {
  const base64 = await page.evaluate(([w, h, text]) => {
    const canvas = document.createElement('canvas');
    canvas.width = w;
    canvas.height = h;
    const g = canvas.getContext('2d');
    const gradient = g.createLinearGradient(0, 0, w, h);
    gradient.addColorStop(0, '#5b4ff0');
    gradient.addColorStop(1, '#f59e0b');
    g.fillStyle = gradient;
    g.fillRect(0, 0, w, h);
    g.fillStyle = '#fff';
    g.font = `bold ${Math.round(h / 4)}px sans-serif`;
    g.fillText(text, Math.round(w / 8), Math.round(h * 0.62));
    return canvas.toDataURL('image/png').split(',')[1];
  }, [width, height, label]);
  return Buffer.from(base64, 'base64');
}

/** The message list (role="log") of the open conversation. */
export function log(page) {
  return page.getByRole('log');
}

/** Saves a screenshot under SCREENSHOT_DIR (and docs/screenshots when asked to). */
export async function screenshot(page, name) {
  await mkdir(SCREENSHOT_DIR, { recursive: true });
  const file = path.join(SCREENSHOT_DIR, name);
  await page.screenshot({ path: file });
  if (DOCS_SCREENSHOT_DIR) {
    await mkdir(DOCS_SCREENSHOT_DIR, { recursive: true });
    await copyFile(file, path.join(DOCS_SCREENSHOT_DIR, name));
  }
  return file;
}

/** Runs axe-core in the page; fails with each violation's rule, impact and first target. */
export async function audit(page, name) {
  await page.addScriptTag({ path: AXE });
  const result = await page.evaluate(
    (tags) => window.axe.run(document, { runOnly: { type: 'tag', values: tags } }), WCAG21_AA);
  const summary = result.violations.map((v) =>
    `${v.id} (${v.impact}): ${v.help} at ${v.nodes.map((n) => n.target.join(' ')).slice(0, 3).join(', ')}`);
  assert.deepEqual(summary, [], `${name}: axe found WCAG 2.1 A/AA violations`);
  assert.ok(result.passes.length > 0, `${name}: axe ran no check`);
}

/**
 * A server and pages for one test, all closed after it (even when it fails). `store`: the SQLite
 * store in a temporary data dir, removed after. Returns {server, open(id, options), restart()}:
 * `open` makes a page (connected as `id` when given); `restart` stops the server and starts a
 * new process on the same port and data dir (the network cut, as a page sees it).
 */
export async function scenario(t, browser, { store = false } = {}) {
  const dataDir = store ? await mkdtemp(path.join(os.tmpdir(), 'parley-e2e-store-')) : null;
  const args = store ? ['--store', 'sqlite', '--data-dir', dataDir] : [];
  const pages = [];
  const context = { server: await startServer({ args }) };
  t.after(async () => {
    for (const p of pages) await p.close().catch(() => {});
    await context.server.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });
  context.open = async (id, options) => {
    const p = await newPage(browser, options);
    pages.push(p);
    if (id) await connect(p.page, context.server.url, id);
    return p;
  };
  context.stop = () => context.server.stop();
  context.start = async () => {
    context.server = await restartServerOn(context.server.port, args);
  };
  return context;
}

/**
 * Waits until my message (the <li> locator) has reached its recipient: "Delivered", or "Read"
 * when the recipient had the conversation open (with a store, reading follows at once).
 */
export function reached(message, timeout = SHOW_TIMEOUT_MS) {
  return message.locator('.status', { hasText: /(Delivered|Read)$/ }).waitFor({ timeout });
}
