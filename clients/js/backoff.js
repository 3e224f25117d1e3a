// Reconnect delays: exponential backoff with full jitter (AWS architecture blog, "Exponential
// Backoff And Jitter"): attempt n waits a uniform random time in [0, min(max, base * 2^n)).
// Spreading the whole interval keeps thousands of clients that lost the same server from
// redialing in step.

/**
 * @typedef {object} BackoffOptions
 * @property {number} [baseMs=250]  the ceiling of the first attempt's delay
 * @property {number} [maxMs=30000] the ceiling never grows past this
 */

/**
 * The delay before reconnect attempt `attempt` (0 for the first redial).
 * @param {number} attempt failures in a row so far, reset to 0 by a `welcome`
 * @param {BackoffOptions} [options]
 * @param {() => number} [random=Math.random] uniform in [0, 1)
 * @returns {number} milliseconds, in [0, min(maxMs, baseMs * 2^attempt))
 */
export function backoffDelay(attempt, { baseMs = 250, maxMs = 30000 } = {}, random = Math.random) {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.min(attempt, 30));
  return Math.floor(random() * ceiling);
}
