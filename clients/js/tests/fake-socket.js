// A stand-in for the WebSocket class, for the state machine's unit tests: each instance records
// what the client wrote, and the test plays the server by calling receive() and drop().
export class FakeSocket {
  /** @type {FakeSocket[]} every socket made, newest last */
  static made = [];
  readyState = 1;
  binaryType = 'blob';
  sent = [];
  onmessage = null;
  onclose = null;
  onerror = null;

  constructor(url) {
    this.url = url;
    FakeSocket.made.push(this);
  }

  static last() { return FakeSocket.made[FakeSocket.made.length - 1]; }

  send(data) { this.sent.push(data); }

  close() { this.readyState = 3; }

  /** The JSON frames the client wrote, parsed (binary frames left out). */
  frames(type) {
    return this.sent.filter((d) => typeof d === 'string').map((d) => JSON.parse(d))
      .filter((f) => type === undefined || f.type === type);
  }

  /** The server sends a text frame. */
  receive(frame) { this.onmessage?.({ data: JSON.stringify(frame) }); }

  /** The server sends a binary frame. */
  receiveBinary(bytes) { this.onmessage?.({ data: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length) }); }

  /** The connection drops. */
  drop(code = 1006) {
    this.readyState = 3;
    this.onclose?.({ code, reason: '' });
  }
}

/** Resolves once `predicate()` is true, polling every 2 ms for at most `ms`. */
export async function until(predicate, ms = 2000) {
  const deadline = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error('timed out waiting for a condition');
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}
