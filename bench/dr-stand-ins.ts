/**
 * The S3 and KMS stand-ins for `bench/dr.ts`, in a process of their own (forked with an IPC channel):
 * what the endpoint holds (request bodies in flight, its own stream buffers) is not in the snapshot's
 * RSS, and the endpoint's CPU does not compete with the client's inside one event loop, as a real
 * endpoint would not. Answers `{ type: 'rss' }` with its own peak RSS since the last question and
 * `{ type: 'cpu' }` with the CPU time it has used (µs).
 */
import { join } from 'node:path';
import { startKmsEmulator } from '../local/kms/kms-emulator.ts';
import { startS3Emulator } from '../local/s3/s3-emulator.ts';

const dataDir = process.argv[2];
if (!dataDir || !process.send) throw new Error('usage: fork(bench/dr-stand-ins.ts, [dataDir]) with an IPC channel');
const s3 = await startS3Emulator({ dataDir: join(dataDir, 's3') });
const kms = await startKmsEmulator({ dataDir: join(dataDir, 'kms') });

let peak = process.memoryUsage.rss();
const sampler = setInterval(() => {
  peak = Math.max(peak, process.memoryUsage.rss());
}, 10);

process.on('message', async (message: { type: string }) => {
  if (message.type === 'rss') {
    const rss = process.memoryUsage.rss();
    process.send!({ type: 'rss', peak: Math.max(peak, rss), rss });
    peak = rss;
  } else if (message.type === 'cpu') {
    const { user, system } = process.cpuUsage();
    process.send!({ type: 'cpu', cpu: user + system });
  } else if (message.type === 'stop') {
    clearInterval(sampler);
    await s3.stop();
    await kms.stop();
    process.disconnect();
  }
});
process.send({ type: 'ready', s3: s3.url, kms: kms.url });
