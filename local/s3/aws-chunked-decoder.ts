import { Transform, type TransformCallback } from 'node:stream';
import { S3Errors } from './errors.ts';

const CRLF = Buffer.from('\r\n');
const MAX_LINE_BYTES = 8 * 1024;

const State = {
  sizeLine: 'sizeLine',
  data: 'data',
  dataEnd: 'dataEnd',
  trailers: 'trailers',
  done: 'done',
} as const;
type State = (typeof State)[keyof typeof State];

/**
 * Strips `Content-Encoding: aws-chunked` framing and yields the payload only.
 * Handles both framings the SDKs send: unsigned (`<hex>\r\n<data>\r\n`) and signed
 * (`<hex>;chunk-signature=…\r\n<data>\r\n`), then a `0` chunk followed by optional trailer lines
 * (`x-amz-checksum-crc32:…`), collected in `trailers`. Signatures are not verified.
 */
export class AwsChunkedDecoder extends Transform {
  readonly trailers = new Map<string, string>();
  #state: State = State.sizeLine;
  #line: Buffer[] = [];
  #lineBytes = 0;
  #remaining = 0;
  #crlfSeen = 0;

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    try {
      this.#consume(chunk);
      callback();
    } catch (error) {
      callback(error as Error);
    }
  }

  override _flush(callback: TransformCallback): void {
    // Some clients end the body right after the last trailer line, without the closing empty line.
    if (this.#state === State.trailers) {
      if (this.#lineBytes > 0) this.#addTrailer(this.#takeLine());
      this.#state = State.done;
    }
    if (this.#state !== State.done) {
      callback(S3Errors.incompleteBody());
      return;
    }
    callback();
  }

  #consume(chunk: Buffer): void {
    let offset = 0;
    while (offset < chunk.length) {
      switch (this.#state) {
        case State.sizeLine:
        case State.trailers: {
          const lineEnd = this.#readLine(chunk, offset);
          if (lineEnd === -1) return;
          offset = lineEnd;
          const line = this.#takeLine();
          if (this.#state === State.sizeLine) this.#startChunk(line);
          else if (line === '') this.#state = State.done;
          else this.#addTrailer(line);
          break;
        }
        case State.data: {
          const take = Math.min(this.#remaining, chunk.length - offset);
          this.push(chunk.subarray(offset, offset + take));
          offset += take;
          this.#remaining -= take;
          if (this.#remaining === 0) {
            this.#state = State.dataEnd;
            this.#crlfSeen = 0;
          }
          break;
        }
        case State.dataEnd: {
          if (chunk[offset] !== CRLF[this.#crlfSeen]) throw S3Errors.invalidChunkedEncoding('chunk not followed by CRLF');
          offset += 1;
          this.#crlfSeen += 1;
          if (this.#crlfSeen === 2) this.#state = State.sizeLine;
          break;
        }
        case State.done: {
          // Anything after the final empty line must be padding whitespace.
          if (chunk.subarray(offset).toString('latin1').trim() !== '') {
            throw S3Errors.invalidChunkedEncoding('data after the final chunk');
          }
          return;
        }
      }
    }
  }

  /** Accumulates bytes up to and including the next CRLF; returns the offset after it, or -1 if incomplete. */
  #readLine(chunk: Buffer, offset: number): number {
    const lf = chunk.indexOf(0x0a, offset);
    const end = lf === -1 ? chunk.length : lf + 1;
    this.#line.push(chunk.subarray(offset, end));
    this.#lineBytes += end - offset;
    if (this.#lineBytes > MAX_LINE_BYTES) throw S3Errors.invalidChunkedEncoding('header line too long');
    return lf === -1 ? -1 : end;
  }

  #takeLine(): string {
    const line = Buffer.concat(this.#line, this.#lineBytes)
      .toString('latin1')
      .replace(/\r?\n$/, '');
    this.#line = [];
    this.#lineBytes = 0;
    return line;
  }

  #startChunk(line: string): void {
    const sizeText = line.split(';', 1)[0].trim();
    if (!/^[0-9a-fA-F]{1,16}$/.test(sizeText)) throw S3Errors.invalidChunkedEncoding('bad chunk size');
    const size = Number.parseInt(sizeText, 16);
    if (!Number.isSafeInteger(size)) throw S3Errors.invalidChunkedEncoding('bad chunk size');
    if (size === 0) {
      this.#state = State.trailers;
    } else {
      this.#remaining = size;
      this.#state = State.data;
    }
  }

  #addTrailer(line: string): void {
    const colon = line.indexOf(':');
    if (colon <= 0) throw S3Errors.invalidChunkedEncoding('bad trailer line');
    this.trailers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
}
