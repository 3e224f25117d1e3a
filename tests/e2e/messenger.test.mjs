// The chat page as a messenger (issue 13), in a real Chromium against a real parley with the
// SQLite store: media that plays, voice notes, history pages, reloads, read sync across tabs and a
// network cut. Each test starts its own server (127.0.0.1, port 0, a temporary data dir); every
// wait is bounded.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  attach, audit, launchBrowser, log, openChat, reached, scenario, screenshot, send, waitForState,
} from './harness.mjs';

let browser;
before(async () => {
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
});

function assertNoProblems(...pages) {
  for (const p of pages) assert.deepEqual(p.problems, []);
}

/** A mono 16-bit PCM WAV of `seconds` of a 440 Hz tone: a real file any browser plays. */
function wav(seconds, rate = 8000) {
  const samples = Math.round(seconds * rate);
  const data = Buffer.alloc(44 + samples * 2);
  data.write('RIFF', 0);
  data.writeUInt32LE(36 + samples * 2, 4);
  data.write('WAVEfmt ', 8);
  data.writeUInt32LE(16, 16);
  data.writeUInt16LE(1, 20); // PCM
  data.writeUInt16LE(1, 22); // mono
  data.writeUInt32LE(rate, 24);
  data.writeUInt32LE(rate * 2, 28);
  data.writeUInt16LE(2, 32);
  data.writeUInt16LE(16, 34);
  data.write('data', 36);
  data.writeUInt32LE(samples * 2, 40);
  for (let i = 0; i < samples; i++) {
    data.writeInt16LE(Math.round(8000 * Math.sin((2 * Math.PI * 440 * i) / rate)), 44 + i * 2);
  }
  return data;
}

/**
 * Waits for the media element's metadata, plays it for a moment and reports what the browser
 * knows: {readyState, duration, played} (played: the seconds its clock advanced).
 */
function playIt(media) {
  return media.evaluate(async (element) => {
    if (element.readyState < 1) {
      await new Promise((resolve, reject) => {
        element.addEventListener('loadedmetadata', resolve, { once: true });
        element.addEventListener('error', () => reject(new Error(`media error ${element.error?.code}`)), { once: true });
        setTimeout(() => reject(new Error('no metadata within 5 s')), 5000);
      });
    }
    const duration = element.duration;
    element.muted = true;
    await element.play();
    const started = element.currentTime;
    const until = Date.now() + 3000;
    while (element.currentTime - started < 0.2 && !element.ended && Date.now() < until) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    element.pause();
    return { readyState: element.readyState, duration, played: element.currentTime - started };
  });
}

/**
 * Sends `count` messages from `from` to `to` through the client library in `page` (another
 * client on the page's origin), waiting until the server acked them all.
 */
function seed(page, from, to, count) {
  return page.evaluate(async ([sender, recipient, n]) => {
    const { ParleyClient } = await import('/static/lib/parley-client.js');
    const client = new ParleyClient({ url: `ws://${location.host}`, id: sender });
    client.connect();
    const sent = [];
    for (let i = 1; i <= n; i++) sent.push(client.send(recipient, `msg ${String(i).padStart(3, '0')}`));
    for (const deadline = Date.now() + 10000; sent.some((m) => m.state === 'queued');) {
      if (Date.now() > deadline) throw new Error('seed messages not acked in 10 s');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    client.close();
  }, [from, to, count]);
}

/** The texts of the open conversation's messages, top to bottom. */
function texts(page) {
  return log(page).locator('li.msg:not(.system) .bubble').allInnerTexts();
}

test('an audio file, a video and a voice note play in the recipient\'s page', { timeout: 60000 }, async (t) => {
  const { open } = await scenario(t, browser, { store: true });
  const a = await open('alice');
  const b = await open('bob');
  await openChat(a.page, 'bob');
  await openChat(b.page, 'alice');

  // an audio file: an <audio controls> that knows its length and plays
  await attach(a.page, 'tone.wav', 'audio/wav', wav(1));
  const tone = log(b.page).getByRole('article').filter({ hasText: 'tone.wav' }).locator('audio');
  await tone.waitFor();
  assert.equal(await tone.getAttribute('controls'), '');
  const heard = await playIt(tone);
  assert.ok(Math.abs(heard.duration - 1) < 0.05, `duration ${heard.duration}`);
  assert.ok(heard.readyState >= 2 && heard.played > 0.1, JSON.stringify(heard));

  // a video the sender's browser recorded from a canvas: a <video controls> with a picture
  const clip = await a.page.evaluate(async () => {
    const canvas = Object.assign(document.createElement('canvas'), { width: 160, height: 90 });
    const g = canvas.getContext('2d');
    const recorder = new MediaRecorder(canvas.captureStream(25), { mimeType: 'video/webm' });
    const chunks = [];
    recorder.ondataavailable = (event) => chunks.push(event.data);
    recorder.start();
    for (let frame = 0; frame < 20; frame++) {
      g.fillStyle = `hsl(${frame * 18} 70% 50%)`;
      g.fillRect(0, 0, 160, 90);
      await new Promise((resolve) => setTimeout(resolve, 40));
    }
    const stopped = new Promise((resolve) => { recorder.onstop = resolve; });
    recorder.stop();
    await stopped;
    const bytes = new Uint8Array(await new Blob(chunks).arrayBuffer());
    let binary = '';
    for (const byte of bytes) binary += String.fromCharCode(byte);
    return btoa(binary);
  });
  await attach(a.page, 'clip.webm', 'video/webm', Buffer.from(clip, 'base64'));
  const video = log(b.page).getByRole('article').filter({ hasText: 'clip.webm' }).locator('video');
  await video.waitFor();
  const seen = await playIt(video);
  assert.ok(seen.readyState >= 2, JSON.stringify(seen));
  assert.ok(await video.evaluate((element) => element.videoWidth) === 160);

  // a voice note: a press to record (the length runs), a press to send
  await a.page.getByRole('button', { name: 'Record voice note' }).click();
  const recording = a.page.getByRole('group', { name: 'Voice note' });
  await recording.getByText('0:01').waitFor({ timeout: 3000 });
  await audit(a.page, 'chat (recording)');
  await screenshot(a.page, 'recording.png');
  await recording.getByRole('button', { name: 'Send voice note' }).click();
  await a.page.getByLabel('Message', { exact: true }).waitFor();
  const note = log(b.page).getByRole('article').filter({ hasText: /voice-note-.*\.webm/ }).locator('audio');
  await note.waitFor();
  const played = await playIt(note);
  assert.ok(played.readyState >= 2 && played.played > 0.1, JSON.stringify(played));
  assert.ok(played.duration > 0.5, `duration ${played.duration}`); // Infinity until seeked, in Chromium

  // a press to cancel: nothing is sent
  await a.page.getByRole('button', { name: 'Record voice note' }).click();
  await recording.getByRole('button', { name: 'Cancel recording' }).click();
  await a.page.getByLabel('Message', { exact: true }).waitFor();
  await reached(await send(a.page, 'that was all'));
  await log(b.page).getByText('that was all').waitFor();
  assert.equal(await log(b.page).locator('audio').count(), 2);
  await screenshot(b.page, 'media.png');
  assertNoProblems(a, b);
});

test('history: a reload shows the same messages in the same order, and scrolling up loads older pages', { timeout: 60000 }, async (t) => {
  const { open, server } = await scenario(t, browser, { store: true });
  const reader = await open('reader');
  await seed(reader.page, 'old-friend', 'reader', 120);
  // nothing was open: the first live message opened its conversation; all 120 are there
  await log(reader.page).getByText('msg 120').waitFor();
  await send(reader.page, 'a reply of mine');
  const before = await texts(reader.page);
  assert.equal(before.length, 121);

  await reader.page.reload();
  await waitForState(reader.page, 'online');
  await reader.page.getByRole('heading', { name: 'old-friend', exact: true }).waitFor();
  await log(reader.page).getByText('a reply of mine').waitFor();
  const firstPage = await texts(reader.page);
  assert.equal(firstPage.length, 50, 'the newest page');
  assert.deepEqual(firstPage, before.slice(-50));

  // scrolled to the top, twice: the older pages come in above, in order
  for (const shown of [100, 121]) {
    // the reader scrolls up and keeps nudging at the top until the page is in
    await reader.page.waitForFunction((n) => {
      const node = document.getElementById('log');
      node.scrollTop = node.scrollTop === 0 ? 5 : 0;
      return node.querySelectorAll('li.msg').length >= n;
    }, shown, { polling: 200 });
  }
  assert.deepEqual(await texts(reader.page), before);
  await reader.page.goto(`${server.url}/static/chat.html?id=reader`); // the list, no conversation
  await reader.page.getByRole('button', { name: /old-friend/ }).getByText('You: a reply of mine').waitFor();
  assertNoProblems(reader);
});

test('read sync: a read in one tab clears the unread count in the other tab of the same id', async (t) => {
  const { open } = await scenario(t, browser, { store: true });
  const tabs = [await open('reader'), await open('reader')];
  for (const tab of tabs) await openChat(tab.page, 'carol'); // busy elsewhere: nothing opens by itself
  const sender = await open('alice');
  await openChat(sender.page, 'reader');
  const sent = await send(sender.page, 'one for later');
  for (const tab of tabs) {
    await tab.page.getByRole('button', { name: /alice/ }).getByLabel('1 unread').waitFor();
  }
  await audit(tabs[1].page, 'chat (list with unread)');
  await tabs[0].page.getByRole('button', { name: /alice/ }).click();
  await log(tabs[0].page).getByText('one for later').waitFor();
  await tabs[1].page.getByRole('button', { name: /alice/ }).getByLabel(/unread/).waitFor({ state: 'detached' });
  await sent.locator('.status', { hasText: /Read$/ }).waitFor();
  await audit(sender.page, 'chat (conversation, read)');
  assertNoProblems(...tabs, sender);
});

test('a network cut (server stopped, restarted on the same port and data) in the middle of typing loses nothing', { timeout: 60000 }, async (t) => {
  const net = await scenario(t, browser, { store: true });
  const ada = await net.open('ada');
  const grace = await net.open('grace');
  await openChat(ada.page, 'grace');
  await openChat(grace.page, 'ada');
  await reached(await send(ada.page, 'before the cut'));
  await log(grace.page).getByText('before the cut').waitFor();

  const box = ada.page.getByLabel('Message', { exact: true });
  await box.pressSequentially('half a thought');
  await net.stop();
  await waitForState(ada.page, 'reconnecting', 3000);
  await box.pressSequentially(', and the rest');
  assert.equal(await box.inputValue(), 'half a thought, and the rest');
  await box.press('Enter');
  const queued = log(ada.page).locator('li.mine').filter({ hasText: 'half a thought, and the rest' });
  assert.equal(await queued.getAttribute('data-status'), 'queued');
  await queued.getByText('Waiting for connection').waitFor();
  const fromGrace = await send(grace.page, 'typed on the other side of the cut');

  await net.start();
  await waitForState(ada.page, 'online', 15000);
  await waitForState(grace.page, 'online', 15000);
  await reached(queued, 10000);
  await reached(fromGrace, 10000);
  await log(grace.page).getByText('half a thought, and the rest').waitFor();
  await log(ada.page).getByText('typed on the other side of the cut').waitFor();
  const expected = ['before the cut', 'half a thought, and the rest', 'typed on the other side of the cut'];
  for (const p of [ada, grace]) {
    const shown = await texts(p.page);
    for (const text of expected) assert.equal(shown.filter((s) => s === text).length, 1, `${text} once`);
  }
  assertNoProblems(ada, grace);
});

test('a conversation keeps seq order however messages arrive, and a settled message takes its place', async (t) => {
  const { open, server } = await scenario(t, browser);
  const { page, problems } = await open(null);
  await page.goto(`${server.url}/static/chat.html`);
  const order = await page.evaluate(async () => {
    const { Thread } = await import('/static/js/thread.js');
    const log = document.createElement('ol');
    const thread = new Thread();
    const item = (text) => Object.assign(document.createElement('li'), { textContent: text });
    const shown = () => [...log.children].map((node) => node.textContent);
    thread.dividerAfter = 3;
    thread.add({ node: item('live 6'), seq: 6, mine: false }, log); // live, before the gap is filled
    thread.add({ node: item('mine, pending'), mine: true, message: { cid: 'c1' } }, log);
    for (const seq of [4, 2, 5]) thread.add({ node: item(`history ${seq}`), seq, mine: false }, log);
    const again = thread.add({ node: item('history 5 again'), seq: 5, mine: false }, log);
    thread.add({ node: item('history 7, mine from history'), seq: 7, mine: true }, log); // lost ack
    thread.settle('c1', 7, log); // the ack of the retry: same seq, the copy goes
    return { shown: shown(), again, newestTheirs: thread.newestTheirs, oldest: thread.oldestSeq };
  });
  assert.deepEqual(order, {
    shown: ['history 2', 'New messages', 'history 4', 'history 5', 'live 6', 'mine, pending'],
    again: false, newestTheirs: 6, oldest: 2,
  });
  assert.deepEqual(problems, []);
});
