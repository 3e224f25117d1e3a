// docs/client.md's bot, run as written (the block marked `<!-- snippet: bot`) against the real
// server: it answers a message that waited for it, a live one and a file, marks them read, and a
// restarted bot does not answer old messages again.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { WebSocket } from 'ws';
import { ParleyClient } from '../parley-client.js';
import { startServer } from './server.js';
import { until } from './fake-socket.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const doc = readFileSync(path.join(here, '../../../docs/client.md'), 'utf8');
// Inside the package, so that `import … from 'parley-client'` resolves to it (self-reference).
const script = path.join(here, '..', `.doc-bot-${process.pid}.mjs`);
const dir = mkdtempSync(path.join(tmpdir(), 'parley-bot-'));
const children = [];
let server;

after(async () => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
  rmSync(script, { force: true });
});

function snippet(name) {
  const match = new RegExp(`<!-- snippet: ${name}\\b[^>]*-->\\n\`\`\`js\\n([\\s\\S]*?)\`\`\``).exec(doc);
  assert.ok(match, `no js block marked snippet: ${name} in docs/client.md`);
  return match[1];
}

function startBot() {
  const child = spawn(process.execPath, [script], { env: { ...process.env, PARLEY_URL: server.url,
    BOT_ID: 'echo-bot' }, stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  let out = '';
  child.stdout.on('data', (chunk) => { out += chunk; });
  return { child, online: () => until(() => out.includes('bot online'), 10000) };
}

function stopBot(child) {
  return new Promise((resolve) => { child.once('exit', resolve); child.kill('SIGTERM'); });
}

test('the bot of docs/client.md answers what waited, what is live and files, once', { timeout: 60000 }, async () => {
  writeFileSync(script, snippet('bot'));
  server = await startServer(dir);
  const carol = new ParleyClient({ url: server.url, id: 'carol', WebSocket, backoffBaseMs: 20, backoffMaxMs: 200 });
  const answers = [];
  carol.addEventListener('message', (e) => { if (!e.detail.mine) answers.push(e.detail.text); });
  carol.connect();
  await until(() => carol.state === 'online', 10000);
  const early = carol.send('echo-bot', 'early');
  await until(() => early.state === 'sent', 10000); // stored: the bot is not there yet

  const bot = startBot();
  await bot.online();
  await until(() => answers.length === 1, 10000);
  carol.send('echo-bot', 'hello');
  await carol.sendFile('echo-bot', new Uint8Array([1, 2, 3]), { name: 'a.txt', mime: 'text/plain' });
  await until(() => answers.length === 3, 10000);
  assert.deepEqual(answers, ['Got "early"', 'Got "hello"', 'Got your file a.txt (3 bytes)']);
  await until(() => early.state === 'read', 10000);

  await stopBot(bot.child);
  const again = startBot();
  await again.online();
  await new Promise((resolve) => setTimeout(resolve, 500));
  assert.equal(answers.length, 3, 'a restarted bot answers nothing old');
  carol.send('echo-bot', 'still there?');
  await until(() => answers.length === 4, 10000);
  assert.equal(answers[3], 'Got "still there?"');
  await stopBot(again.child);
  carol.close();
});
