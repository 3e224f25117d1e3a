// Why a dial was refused. A refused upgrade reaches a browser's WebSocket only as close 1006, with
// no status and no body; the server answers the same URL over plain HTTP with its status and
// reason, so the client asks it there. 400 (a bad id), 401 (a bad or foreign token) and 403 (a
// banned id, a foreign origin) are refusals that redialing cannot change.

/** HTTP statuses that mean "not this id or token": the client stops redialing. */
export const REFUSED_STATUSES = new Set([400, 401, 403]);

/**
 * Asks `wsUrl` over HTTP(S) (ws: -> http:, wss: -> https:).
 * @param {string} wsUrl the URL the socket dialed
 * @param {typeof fetch} fetchFn
 * @param {number} timeoutMs bound on the request
 * @returns {Promise<{status: number, reason: string}|null>} the refusal, or null when the server
 *   does not refuse (426: it wanted the upgrade) or cannot be reached (an outage: keep redialing)
 */
export async function refusalOf(wsUrl, fetchFn, timeoutMs) {
  const url = wsUrl.replace(/^ws(s?):/, 'http$1:');
  try {
    const response = await fetchFn(url, { cache: 'no-store', signal: AbortSignal.timeout(timeoutMs) });
    if (!REFUSED_STATUSES.has(response.status)) return null;
    return { status: response.status, reason: (await response.text()).trim() || `HTTP ${response.status}` };
  } catch {
    return null;
  }
}
