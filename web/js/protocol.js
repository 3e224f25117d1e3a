// The wire format of shared/protocol.md (version 1), with no DOM and no socket, so it can be
// read against the contract on its own.

/** Ids the server accepts after percent-decoding: 1 to 64 of [A-Za-z0-9_.-]. */
export const ID_PATTERN = /^[A-Za-z0-9_.-]{1,64}$/;

/** The protocol's default --max-binary-bytes; a server may announce its own in `welcome`. */
export const DEFAULT_MAX_BINARY_BYTES = 8 * 1024 * 1024;

/** The protocol's default --max-text-bytes (a longer text is answered `too_large`). */
export const DEFAULT_MAX_TEXT_BYTES = 64 * 1024;

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

/** Bytes of a string once sent as UTF-8, which is what the server's limits count. */
export function utf8Length(text) {
  return encoder.encode(text).length;
}

/**
 * The WebSocket URL for `id` on the server that served this page: ws: or wss: by the page's
 * protocol, the same host and port, and `?token=` passed through when the page has one.
 */
export function socketUrl(location, id) {
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${scheme}//${location.host}${socketPath(location, id)}`;
}

/** `/ws/<id>` (+ `?token=`), the path both the socket and the reason check use. */
export function socketPath(location, id) {
  const token = new URLSearchParams(location.search).get('token');
  const query = token === null ? '' : `?token=${encodeURIComponent(token)}`;
  return `/ws/${encodeURIComponent(id)}${query}`;
}

/**
 * A binary frame: [2-byte big-endian header length H][H bytes of JSON header][payload].
 * Returns an ArrayBuffer, or throws RangeError when the header cannot fit 16 bits.
 */
export function encodeBinary(header, payload) {
  const head = encoder.encode(JSON.stringify(header));
  if (head.length > 0xffff) throw new RangeError('file header too long');
  const body = new Uint8Array(payload);
  const frame = new Uint8Array(2 + head.length + body.length);
  new DataView(frame.buffer).setUint16(0, head.length, false);
  frame.set(head, 2);
  frame.set(body, 2 + head.length);
  return frame.buffer;
}

/** Size in bytes of the frame encodeBinary would build, without copying the payload. */
export function binaryFrameSize(header, payloadBytes) {
  return 2 + encoder.encode(JSON.stringify(header)).length + payloadBytes;
}

/**
 * Splits a received binary frame into its JSON header and payload bytes.
 * Returns null for a frame that does not follow the layout (the page then ignores it).
 */
export function decodeBinary(buffer) {
  if (buffer.byteLength < 2) return null;
  const length = new DataView(buffer).getUint16(0, false);
  if (2 + length > buffer.byteLength) return null;
  try {
    const header = JSON.parse(decoder.decode(new Uint8Array(buffer, 2, length)));
    if (header === null || typeof header !== 'object' || Array.isArray(header)) return null;
    return { header, payload: new Uint8Array(buffer, 2 + length) };
  } catch {
    return null;
  }
}

/** Parses a text frame into its object, or null when it is not one JSON object. */
export function decodeText(text) {
  try {
    const value = JSON.parse(text);
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? value : null;
  } catch {
    return null;
  }
}
