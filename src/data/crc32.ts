// CRC-32 (ISO 3309 / ITU-T V.42, the one of ZIP, gzip and PNG): reflected polynomial 0xEDB88320, initial
// value and final XOR 0xFFFFFFFF. One table lookup per byte; platform-neutral.

const TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/**
 * The CRC-32 of `bytes` as an unsigned 32-bit number. Pass the result of a previous call as `crc` to
 * continue over data given in pieces.
 */
export function crc32(bytes: Uint8Array, crc = 0): number {
  let c = ~crc >>> 0;
  for (let i = 0; i < bytes.length; i++) c = TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}
