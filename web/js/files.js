// Files on the chat page: names cut to the protocol's limit, the size check, and drag-and-drop.
import { utf8Length } from '../lib/frames.js';

/** The protocol's default --max-binary-bytes: the server refuses (closes 1009) a larger frame. */
export const MAX_BINARY_BYTES = 8 * 1024 * 1024;

/** Bytes of the binary frame for a file (2-byte length, JSON header, payload). */
export function binaryFrameSize(header, payloadBytes) {
  return 2 + utf8Length(JSON.stringify(header)) + payloadBytes;
}

/** Cuts a file name to the protocol's 255 bytes, keeping its extension. */
export function fitName(name) {
  if (utf8Length(name) <= 255) return name;
  const dot = name.lastIndexOf('.');
  const ext = dot > 0 && name.length - dot <= 16 ? name.slice(dot) : '';
  let stem = name.slice(0, name.length - ext.length);
  while (utf8Length(stem + ext) > 255) stem = [...stem].slice(0, -1).join(''); // whole code points
  return stem + ext;
}

/**
 * Makes `target` take dropped files while `canDrop()` is true, showing `zone` during the drag;
 * `onFiles(files)` gets the dropped FileList.
 */
export function acceptDrops(target, zone, canDrop, onFiles) {
  let depth = 0; // dragenter/dragleave also fire for each child crossed
  const hasFiles = (event) => event.dataTransfer?.types?.includes('Files');
  target.addEventListener('dragenter', (event) => {
    if (!hasFiles(event) || !canDrop()) return;
    depth += 1;
    zone.hidden = false;
  });
  target.addEventListener('dragleave', () => {
    depth = Math.max(0, depth - 1);
    if (!depth) zone.hidden = true;
  });
  target.addEventListener('dragover', (event) => {
    if (hasFiles(event) && canDrop()) event.preventDefault();
  });
  target.addEventListener('drop', (event) => {
    event.preventDefault();
    depth = 0;
    zone.hidden = true;
    if (canDrop()) onFiles([...event.dataTransfer.files]);
  });
}
