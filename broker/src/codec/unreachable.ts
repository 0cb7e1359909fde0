/** Exhaustiveness check for encoders' switches: a new message variant fails to compile until it is encoded. */
export function unreachable(value: never): never {
  throw new TypeError(`no encoding for message ${JSON.stringify(value)}`);
}
