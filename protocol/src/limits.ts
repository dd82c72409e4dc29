/**
 * Size limits. Every receiver checks a frame's byte length against these BEFORE parsing it, so a hostile peer cannot
 * make it decode (or even UTF-8-convert) megabytes of JSON. The validator announces the limits it enforces in
 * `welcome.limits`; the defaults here are what both sides assume until then.
 */
export interface Limits {
  /** Largest text (JSON) frame, in UTF-8 bytes. Real messages are < 1 KiB; 64 KiB leaves room for error text. */
  maxTextBytes: number;
  /** Largest media payload of one binary frame (one image, one sampled video frame, or one short clip). */
  maxMediaBytes: number;
  /** Most media frames one challenge may announce (video challenges send sampled frames). */
  maxFrames: number;
}

export const DEFAULT_LIMITS: Readonly<Limits> = Object.freeze({
  maxTextBytes: 64 * 1024,
  maxMediaBytes: 8 * 1024 * 1024,
  maxFrames: 16,
});

/** How long a validator waits for `auth` after sending `hello` before closing with 4010. */
export const DEFAULT_HANDSHAKE_TIMEOUT_MS = 10_000;

/** The validator's ping interval unless it announces another in `welcome.heartbeatMs`; silence for 3x this is death. */
export const DEFAULT_HEARTBEAT_MS = 15_000;

/** A media frame's JSON header is tiny (~120 bytes); capping it keeps the header parse bounded whatever the payload. */
export const MAX_MEDIA_HEADER_BYTES = 1024;

/** Bytes before the header: its length as a 32-bit big-endian unsigned integer. */
export const MEDIA_PREFIX_BYTES = 4;

/** Largest binary frame the limits allow: prefix + header + payload. */
export function maxBinaryBytes(limits: Limits = DEFAULT_LIMITS): number {
  return MEDIA_PREFIX_BYTES + MAX_MEDIA_HEADER_BYTES + limits.maxMediaBytes;
}

/**
 * The value for `ws`'s `maxPayload` option. `ws` rejects a larger frame from its length header, before buffering
 * it, but closes with the standard 1009 rather than our 4005; so the transport cap sits above our own limits
 * (which close with 4005) and only catches the absurd. The validator receives text only, so its cap is small;
 * a Node miner receives media, so its cap is the largest binary frame.
 */
export function transportMaxPayload(receiver: 'validator' | 'miner', limits: Limits = DEFAULT_LIMITS): number {
  return receiver === 'validator' ? Math.max(4 * limits.maxTextBytes, 1024 * 1024) : maxBinaryBytes(limits) + 64 * 1024;
}

/** Exact UTF-8 byte length of a JS string without allocating its encoding. Lone surrogates count 3 (U+FFFD). */
export function utf8Length(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) bytes += 1;
    else if (c < 0x800) bytes += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const d = text.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        bytes += 4;
        i++;
      } else bytes += 3;
    } else bytes += 3;
  }
  return bytes;
}

/**
 * The socket-level size check, on the frame's byte length as the transport reports it, before converting or
 * parsing anything. Returns a reason when the frame must be refused (close 4005), else undefined.
 */
export function frameTooLarge(byteLength: number, binary: boolean, limits: Limits = DEFAULT_LIMITS): string | undefined {
  const max = binary ? maxBinaryBytes(limits) : limits.maxTextBytes;
  return byteLength > max ? `${binary ? 'binary' : 'text'} frame of ${byteLength} bytes exceeds ${max}` : undefined;
}
