import { ErrorCode, ProtocolException, type ProtocolError } from './errors.js';
import { DEFAULT_LIMITS, frameTooLarge, type Limits, MAX_MEDIA_HEADER_BYTES, MEDIA_PREFIX_BYTES, utf8Length } from './limits.js';
import {
  checkEnvelope,
  type MediaHeader,
  type MediaMime,
  type Message,
  MESSAGE_TYPES,
  type MessageType,
  type Role,
  SENT_BY,
  validateFields,
} from './messages.js';

export type DecodeResult = { ok: true; message: Message } | { ok: false; error: ProtocolError };

export interface MediaFrame {
  header: MediaHeader;
  /** The raw media bytes: a view into the received buffer, not a copy. */
  data: Uint8Array;
}
export type DecodeBinaryResult = { ok: true; frame: MediaFrame } | { ok: false; error: ProtocolError };

export interface DecodeOptions {
  /** The role of the peer that sent the frame; a message that role never sends is E_UNEXPECTED_MESSAGE. */
  from?: Role;
}

const bad = (code: ErrorCode, message: string): { ok: false; error: ProtocolError } => ({ ok: false, error: { code, message } });

/**
 * Decodes one text frame. Never throws, whatever the input: size first (before JSON.parse touches it), then JSON,
 * then version (so a v3 peer gets E_UNSUPPORTED_VERSION even for types v2 lacks), then type, then every field.
 */
export function decodeText(text: unknown, limits: Limits = DEFAULT_LIMITS, options: DecodeOptions = {}): DecodeResult {
  try {
    if (typeof text !== 'string') return bad(ErrorCode.BadMessage, 'a text frame must be a string');
    // UTF-8 is at least one byte per UTF-16 unit, so a long string is refused without counting its bytes.
    if (text.length > limits.maxTextBytes || utf8Length(text) > limits.maxTextBytes) {
      return bad(
        ErrorCode.TooLarge,
        frameTooLarge(Math.max(text.length, utf8Length(text)), false, limits) ?? 'text frame too large',
      );
    }
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      return bad(ErrorCode.BadMessage, 'a text frame must be one JSON object');
    }
    const envelope = checkEnvelope(value);
    if (!envelope.ok) return envelope;
    const type = envelope.type as MessageType;
    if (!MESSAGE_TYPES.includes(type)) {
      const hint = envelope.type === 'media' ? ' (media travels only in binary frames)' : '';
      return bad(ErrorCode.UnknownType, `unknown message type ${JSON.stringify(envelope.type).slice(0, 80)}${hint}`);
    }
    if (options.from !== undefined && !SENT_BY[type].includes(options.from)) {
      return bad(ErrorCode.UnexpectedMessage, `a ${options.from} never sends "${type}"`);
    }
    const validated = validateFields<Message>(type, value as Record<string, unknown>, limits);
    return validated.ok ? { ok: true, message: validated.value } : validated;
  } catch (error) {
    // Unreachable by design; kept so that a validator bug can never become a socket-loop crash.
    return bad(ErrorCode.BadMessage, `undecodable frame (${error instanceof Error ? error.message : String(error)})`);
  }
}

/**
 * Encodes a message as the exact text to send: validated, keys in canonical order, no whitespace, unknown fields
 * dropped. Throws ProtocolException on an invalid message, because sending one is a bug on this side.
 */
export function encode(message: Message, limits: Limits = DEFAULT_LIMITS): string {
  const envelope = checkEnvelope(message);
  if (!envelope.ok) throw new ProtocolException(envelope.error);
  if (!MESSAGE_TYPES.includes(envelope.type as MessageType)) {
    throw new ProtocolException({ code: ErrorCode.UnknownType, message: `unknown message type ${envelope.type}` });
  }
  const validated = validateFields<Message>(message.type, message as unknown as Record<string, unknown>, limits);
  if (!validated.ok) throw new ProtocolException(validated.error);
  const text = JSON.stringify(validated.value);
  const tooLarge = frameTooLarge(utf8Length(text), false, limits);
  if (tooLarge !== undefined) throw new ProtocolException({ code: ErrorCode.TooLarge, message: tooLarge });
  return text;
}

// ---------------------------------------------------------------------------------------------------------------
// Binary media frames:
//
//   offset 0        4                 4+H                         end
//          +--------+-----------------+---------------------------+
//          | H (u32 | header: H bytes | media payload: the rest   |
//          |  BE)   | UTF-8 JSON      | of the frame, raw bytes   |
//          +--------+-----------------+---------------------------+
//
// One binary WebSocket frame per media item, self-describing (challengeId, index, count, mime), so a receiver never
// has to guess which challenge a blob belongs to, and a miner in any language parses it with a 4-byte read and a
// JSON parser it already has. No base64: media is 1/3 smaller and needs no decode pass.

export interface MediaFrameInit {
  challengeId: string;
  index: number;
  count: number;
  mime: MediaMime;
}

/** Builds one binary media frame. Throws ProtocolException on an invalid header or payload (a sender bug). */
export function encodeMedia(init: MediaFrameInit, data: Uint8Array, limits: Limits = DEFAULT_LIMITS): Uint8Array {
  const validated = validateFields<MediaHeader>('media', { ...init }, limits);
  if (!validated.ok) throw new ProtocolException(validated.error);
  if (data.length === 0 || data.length > limits.maxMediaBytes) {
    throw new ProtocolException({
      code: data.length === 0 ? ErrorCode.BadFrame : ErrorCode.TooLarge,
      message: `media payload must be 1..${limits.maxMediaBytes} bytes, got ${data.length}`,
    });
  }
  const header = new TextEncoder().encode(JSON.stringify(validated.value));
  const out = new Uint8Array(MEDIA_PREFIX_BYTES + header.length + data.length);
  new DataView(out.buffer).setUint32(0, header.length, false);
  out.set(header, MEDIA_PREFIX_BYTES);
  out.set(data, MEDIA_PREFIX_BYTES + header.length);
  return out;
}

function toBytes(input: unknown): Uint8Array | undefined {
  if (input instanceof Uint8Array) return input;
  if (input instanceof ArrayBuffer) return new Uint8Array(input);
  if (ArrayBuffer.isView(input)) return new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
  return undefined;
}

/** Decodes one binary frame (Uint8Array, Node Buffer, ArrayBuffer). Never throws, whatever the input. */
export function decodeBinary(input: unknown, limits: Limits = DEFAULT_LIMITS): DecodeBinaryResult {
  try {
    const bytes = toBytes(input);
    if (bytes === undefined) return bad(ErrorCode.BadFrame, 'a binary frame must be bytes');
    const tooLarge = frameTooLarge(bytes.length, true, limits);
    if (tooLarge !== undefined) return bad(ErrorCode.TooLarge, tooLarge);
    if (bytes.length < MEDIA_PREFIX_BYTES) {
      return bad(ErrorCode.BadFrame, `binary frame of ${bytes.length} bytes is shorter than the 4-byte header length`);
    }
    const headerLength = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(0, false);
    if (headerLength < 2 || headerLength > MAX_MEDIA_HEADER_BYTES) {
      return bad(ErrorCode.BadFrame, `header length ${headerLength} is outside 2..${MAX_MEDIA_HEADER_BYTES}`);
    }
    if (MEDIA_PREFIX_BYTES + headerLength > bytes.length) {
      return bad(ErrorCode.BadFrame, `header length ${headerLength} runs past the end of a ${bytes.length}-byte frame`);
    }
    let value: unknown;
    try {
      const json = new TextDecoder('utf-8', { fatal: true }).decode(
        bytes.subarray(MEDIA_PREFIX_BYTES, MEDIA_PREFIX_BYTES + headerLength),
      );
      value = JSON.parse(json);
    } catch {
      return bad(ErrorCode.BadFrame, 'media header is not UTF-8 JSON');
    }
    const envelope = checkEnvelope(value);
    if (!envelope.ok) return envelope;
    if (envelope.type !== 'media') {
      return bad(ErrorCode.UnknownType, `a binary frame must be "media", got ${JSON.stringify(envelope.type).slice(0, 80)}`);
    }
    const validated = validateFields<MediaHeader>('media', value as Record<string, unknown>, limits);
    if (!validated.ok) return validated;
    const data = bytes.subarray(MEDIA_PREFIX_BYTES + headerLength);
    if (data.length === 0) return bad(ErrorCode.BadFrame, 'media payload is empty');
    if (data.length > limits.maxMediaBytes) {
      return bad(ErrorCode.TooLarge, `media payload of ${data.length} bytes exceeds ${limits.maxMediaBytes}`);
    }
    return { ok: true, frame: { header: validated.value, data } };
  } catch (error) {
    return bad(ErrorCode.BadFrame, `undecodable frame (${error instanceof Error ? error.message : String(error)})`);
  }
}
