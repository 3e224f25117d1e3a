// Parley's binary frame layout (docs/protocol.md, "Binary frames"):
//   [2-byte big-endian header length H][H bytes of UTF-8 JSON header][payload bytes]
// Pure functions, no I/O: they run the same in browsers and in Node.

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

/** Largest header the 2-byte length can describe. */
export const MAX_HEADER_BYTES = 0xffff;

/**
 * Builds one binary frame.
 * @param {object} header JSON header, e.g. {to, name, mime, cid}
 * @param {Uint8Array|ArrayBuffer} payload the file's bytes (a Node Buffer is a Uint8Array)
 * @returns {Uint8Array} the whole frame
 * @throws {RangeError} when the header does not fit in 65535 bytes
 */
export function encodeFile(header, payload) {
  const head = encoder.encode(JSON.stringify(header));
  if (head.length > MAX_HEADER_BYTES) throw new RangeError('binary header over 65535 bytes');
  const body = payload instanceof Uint8Array ? payload : new Uint8Array(payload);
  const frame = new Uint8Array(2 + head.length + body.length);
  frame[0] = head.length >> 8;
  frame[1] = head.length & 0xff;
  frame.set(head, 2);
  frame.set(body, 2 + head.length);
  return frame;
}

/**
 * Splits a binary frame into its header and payload.
 * @param {ArrayBuffer|Uint8Array} data the frame (ArrayBuffer in browsers, Buffer in Node)
 * @returns {{header: object, payload: Uint8Array}} payload is a view into data, not a copy
 * @throws {Error} when the frame is shorter than its header or the header is not a JSON object
 */
export function decodeFile(data) {
  const bytes = data instanceof Uint8Array ? data : new Uint8Array(data);
  if (bytes.length < 2) throw new Error('binary frame shorter than 2 bytes');
  const length = (bytes[0] << 8) | bytes[1];
  if (2 + length > bytes.length) throw new Error('binary header length past the end of the frame');
  const header = JSON.parse(decoder.decode(bytes.subarray(2, 2 + length)));
  if (header === null || typeof header !== 'object' || Array.isArray(header)) {
    throw new Error('binary header is not a JSON object');
  }
  return { header, payload: bytes.subarray(2 + length) };
}

/**
 * Reads any file-like value into bytes: a Blob (browsers, Node 20) is read asynchronously.
 * @param {Blob|ArrayBuffer|Uint8Array} data
 * @returns {Promise<Uint8Array>}
 */
export async function toBytes(data) {
  if (data instanceof Uint8Array) return data;
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (typeof Blob !== 'undefined' && data instanceof Blob) return new Uint8Array(await data.arrayBuffer());
  throw new TypeError('a file must be a Blob, an ArrayBuffer or a Uint8Array');
}

/** Byte length of a string in UTF-8 (what the server's text limit counts). */
export function utf8Length(text) {
  return encoder.encode(text).length;
}
