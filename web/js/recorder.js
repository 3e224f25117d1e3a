// Voice notes: the microphone recorded with MediaRecorder, one press to start, one to send (or
// cancel), the length shown meanwhile. The note is an ordinary file (a name and a mime type) that
// the page sends as a binary message. Touched only by the page's one thread.

/**
 * The page sends a note by itself at this length: Opus at Chromium's default bitrate makes about
 * 1 MiB in 5 minutes, well under the server's 8 MiB per file.
 */
export const MAX_VOICE_NOTE_MS = 5 * 60 * 1000;
const TICK_MS = 250; // how often the length shown is updated

/** "0:07", "12:30": a length in minutes and seconds. */
export function formatLength(ms) {
  const seconds = Math.floor(ms / 1000);
  return `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, '0')}`;
}

/** True when this browser can record (a secure context with a microphone API and MediaRecorder). */
export function canRecord() {
  return typeof MediaRecorder !== 'undefined' && Boolean(navigator.mediaDevices?.getUserMedia);
}

export class VoiceRecorder {
  #recorder = null;
  #stream = null;
  #chunks = [];
  #startedAt = 0;
  #timer = 0;
  #onTick;

  /** `onTick(ms)`: the length so far, every TICK_MS while recording. */
  constructor(onTick) {
    this.#onTick = onTick;
  }

  get recording() { return this.#recorder !== null; }

  /** Asks for the microphone and starts recording. Rejects when the reader refuses it. */
  async start() {
    if (this.#recorder) return;
    this.#stream = await navigator.mediaDevices.getUserMedia({ audio: true });
    this.#chunks = [];
    this.#recorder = new MediaRecorder(this.#stream);
    this.#recorder.addEventListener('dataavailable', (event) => {
      if (event.data.size > 0) this.#chunks.push(event.data);
    });
    this.#recorder.start();
    this.#startedAt = Date.now();
    this.#onTick(0);
    this.#timer = setInterval(() => this.#onTick(Date.now() - this.#startedAt), TICK_MS);
  }

  /** Stops and returns the note: {blob, mime, ms}. */
  async finish() {
    const recorder = this.#recorder;
    if (!recorder) return null;
    const ms = Date.now() - this.#startedAt;
    const stopped = new Promise((resolve) => recorder.addEventListener('stop', resolve, { once: true }));
    recorder.stop();
    await stopped;
    const mime = recorder.mimeType || 'audio/webm';
    const blob = new Blob(this.#chunks, { type: mime });
    this.#release();
    return { blob, mime, ms };
  }

  /** Stops and throws the recording away. */
  cancel() {
    if (!this.#recorder) return;
    if (this.#recorder.state !== 'inactive') this.#recorder.stop();
    this.#release();
  }

  #release() {
    clearInterval(this.#timer);
    for (const track of this.#stream?.getTracks() ?? []) track.stop();
    this.#recorder = null;
    this.#stream = null;
    this.#chunks = [];
  }
}
