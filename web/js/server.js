// Where the page's server is: the WebSocket base for the client library, and the reason the
// server gives when it refuses an id or a token (which a browser's WebSocket cannot see).

const REASON_CHECK_MS = 3000; // bound on the HTTP request that fetches a refusal's reason
const REFUSALS = new Set([400, 401, 403]); // bad id, bad token, forbidden: redialing cannot help

/** ws: or wss: (by the page's own scheme) on the host and port that served the page. */
export function serverUrl(location) {
  return `${location.protocol === 'https:' ? 'wss:' : 'ws:'}//${location.host}`;
}

/**
 * Asks `/ws/<id>` (with the page's `?token=`) over plain HTTP: the server answers a refused
 * upgrade's 4xx with its reason. Resolves to that reason, or null when the server does not
 * refuse (or cannot be reached: an outage, worth redialing).
 */
export async function refusalReason(location, id) {
  const token = new URLSearchParams(location.search).get('token');
  const query = token === null ? '' : `?token=${encodeURIComponent(token)}`;
  try {
    const response = await fetch(`/ws/${encodeURIComponent(id)}${query}`, {
      cache: 'no-store', signal: AbortSignal.timeout(REASON_CHECK_MS),
    });
    if (!REFUSALS.has(response.status)) return null;
    return (await response.text()).trim() || `HTTP ${response.status}`;
  } catch {
    return null;
  }
}
