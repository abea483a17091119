// Reads a whole request body with a size cap, so one huge upload cannot
// exhaust memory; the rest is drained so the client still gets its answer.

import type { IncomingMessage } from 'node:http';

export class BodyTooLargeError extends Error {
  readonly limitBytes: number;

  constructor(limitBytes: number) {
    super(`Request body exceeds ${limitBytes} bytes`);
    this.limitBytes = limitBytes;
    this.name = 'BodyTooLargeError';
  }
}

export function readRequestBody(request: IncomingMessage, maxBytes: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= maxBytes) chunks.push(chunk);
    });
    request.on('end', () => {
      if (size > maxBytes) reject(new BodyTooLargeError(maxBytes));
      else resolve(Buffer.concat(chunks));
    });
    request.on('error', reject);
  });
}
