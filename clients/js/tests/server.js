// Starts the real parley binary (PARLEY_BINARY; unset: the repo's build/parley, else
// /work/main/build/parley) on 127.0.0.1, port 0 unless given, with the SQLite store in
// `dataDir`, and reads its port from the log line "listening on http://127.0.0.1:PORT".
// Every wait is bounded.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const here = path.dirname(fileURLToPath(import.meta.url));

export function parleyBinary() {
  const chosen = process.env.PARLEY_BINARY;
  if (chosen) {
    if (!existsSync(chosen)) throw new Error(`PARLEY_BINARY=${chosen} does not exist`);
    return chosen;
  }
  const found = [path.join(here, '../../../build/parley'), '/work/main/build/parley'].find(existsSync);
  if (!found) throw new Error('no parley binary: set PARLEY_BINARY');
  return found;
}

/**
 * @returns {Promise<{port: number, url: string, child: import('node:child_process').ChildProcess,
 *   stop: (signal?: string) => Promise<void>}>}
 */
export function startServer(dataDir, { port = 0, timeoutMs = 15000 } = {}) {
  const child = spawn(parleyBinary(), ['--host', '127.0.0.1', '--port', String(port), '--threads', '1',
    '--store', 'sqlite', '--data-dir', dataDir], { stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let log = '';
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`parley did not start:\n${log}`)); }, timeoutMs);
    const onData = (chunk) => {
      log += chunk;
      const match = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(log);
      if (!match) return;
      clearTimeout(timer);
      const found = Number(match[1]);
      resolve({ port: found, url: `ws://127.0.0.1:${found}`, child, stop: (signal) => stop(child, signal) });
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`parley exited (${code}):\n${log}`)); });
  });
}

// Stops the process this module started (by its own handle), waiting at most 5 s, then SIGKILL.
function stop(child, signal = 'SIGTERM') {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const force = setTimeout(() => child.kill('SIGKILL'), 5000);
    child.once('exit', () => { clearTimeout(force); resolve(); });
    child.kill(signal);
  });
}
