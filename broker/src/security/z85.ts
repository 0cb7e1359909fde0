/**
 * Z85 (ZeroMQ RFC 32/Z85), the text form of CURVE keys: 4 octets become 5 characters of an 85-character alphabet.
 * zeromq.js hands keys out as Z85 strings but ZAP (RFC 27 §The CURVE Mechanism) hands the handler the raw 32-octet
 * public key, so the handler needs the encoder; the decoder validates key files.
 */

const ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#";
const DIGIT = new Map<string, number>([...ALPHABET].map((char, value) => [char, value]));

/** A CURVE key is 32 octets, i.e. 40 Z85 characters. */
export const KEY_OCTETS = 32;
export const KEY_CHARS = 40;

/** Encodes octets whose count is a multiple of 4 (RFC 32 requires it). */
export function z85Encode(data: Uint8Array): string {
  if (data.length % 4 !== 0) throw new RangeError(`Z85 input length ${data.length} is not a multiple of 4`);
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  let text = "";
  for (let offset = 0; offset < data.length; offset += 4) {
    let value = view.getUint32(offset);
    const block: string[] = [];
    for (let i = 0; i < 5; i++) {
      block.unshift(ALPHABET.charAt(value % 85));
      value = Math.floor(value / 85);
    }
    text += block.join("");
  }
  return text;
}

/**
 * Decodes Z85 text, or returns undefined when it is not Z85: a length that is not a multiple of 5, a character
 * outside the alphabet, or a 5-character group above 2^32 - 1 (so every accepted text has exactly one encoding).
 */
export function z85Decode(text: string): Uint8Array | undefined {
  if (text.length % 5 !== 0) return undefined;
  const data = new Uint8Array((text.length / 5) * 4);
  const view = new DataView(data.buffer);
  for (let offset = 0; offset < text.length; offset += 5) {
    let value = 0;
    for (let i = 0; i < 5; i++) {
      const digit = DIGIT.get(text.charAt(offset + i));
      if (digit === undefined) return undefined;
      value = value * 85 + digit;
    }
    if (value > 0xffffffff) return undefined;
    view.setUint32((offset / 5) * 4, value);
  }
  return data;
}

/** True when `text` is a CURVE key in Z85: 40 characters that decode to 32 octets. */
export function isZ85Key(text: string): boolean {
  return text.length === KEY_CHARS && z85Decode(text) !== undefined;
}
