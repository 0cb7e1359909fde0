/**
 * Idempotency keys (issue 10: a client's `key` on an enveloped REQUEST) in the two places NATS needs them: the
 * `Nats-Msg-Id` of the published task and the key of its kept result. Client keys are arbitrary text, while a header
 * value must be one ASCII line and a KV key may only hold `[-/_=.A-Za-z0-9]`, so both carry the key's UTF-8 in
 * base64url. The prefixes keep the two origins apart: a generated id can never equal a client's key.
 */

function base64url(text: string): string {
  return Buffer.from(text, "utf8").toString("base64url");
}

/** The Msg-Id of a task: from the client's key (`k.` + base64url), or from an id the broker generated (`g.` + id). */
export function msgIdFor(source: { key: string } | { generated: string }): string {
  return "key" in source ? `k.${base64url(source.key)}` : `g.${source.generated}`;
}

/** The kept-results bucket key of a client's idempotency key. */
export function resultKey(key: string): string {
  return `k.${base64url(key)}`;
}

/**
 * A key is one task per key *and service* (spec §Idempotent requests), while a Msg-Id and a bucket key are one
 * namespace: both are derived from this pair (JSON keeps it injective whatever the two hold).
 */
export function scopedKey(service: string, key: string): string {
  return JSON.stringify([service, key]);
}
