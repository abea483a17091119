import type { Readable, Writable } from 'node:stream';
import type { DrEvent, DrJob } from './model.ts';
import type { DataCopy, TrafficPointer } from './pointer.ts';
import type { DynamoItem } from './record-codec.ts';
import type { DrTarget } from './targets.ts';

export interface JobChange {
  job: Partial<DrJob>;
  events: Omit<DrEvent, 'jobId' | 'seq' | 'ts' | 'progress' | 'state'>[];
}

/** DR jobs, their events, quiesce flags and traffic pointers, in the state table. */
export interface DrRepository {
  createJob(job: DrJob, event: JobChange['events'][number]): Promise<void>;
  getJob(id: string): Promise<DrJob | undefined>;
  /** Read-modify-write with a version condition; retries when another writer came first. */
  updateJob(id: string, change: (job: DrJob) => JobChange): Promise<DrJob>;
  listEvents(id: string, afterSeq?: number): Promise<DrEvent[]>;
  /** The newest backup of the target that ended COMPLETE (what a scheduled restore test restores). */
  latestCompleteBackup(target: string): Promise<DrJob | undefined>;

  /** Sets the quiesce flag; refuses with DrTargetBusy while another unexpired job holds it. */
  quiesce(flag: QuiesceFlag): Promise<void>;
  /** Lifts the flag if this job holds it (idempotent). */
  unquiesce(target: string, jobId: string): Promise<void>;
  listQuiesceFlags(): Promise<QuiesceFlag[]>;

  getPointer(target: string): Promise<TrafficPointer | undefined>;
  /** Writes the pointer only if the stored one still has `expectedVersion` (0: none stored); else DrTargetBusy. */
  putPointer(pointer: TrafficPointer, expectedVersion: number): Promise<void>;
}

export interface QuiesceFlag {
  target: string;
  jobId: string;
  tables: string[];
  prefixes: { bucket: string; prefix: string }[];
  /** ISO time after which the flag no longer holds writers (the bound on a quiesce). */
  until: string;
}

export interface TableSchema {
  keySchema: { AttributeName: string; KeyType: 'HASH' | 'RANGE' }[];
  attributeDefinitions: { AttributeName: string; AttributeType: 'S' | 'N' | 'B' }[];
}

/** DynamoDB tables as DR sees them: whole-table streams, creation of copies. */
export interface TableData {
  describe(table: string): Promise<TableSchema>;
  /** Every item, page by page (a Scan in parallel segments, in no particular order); never the whole table in memory. */
  scan(table: string): AsyncIterable<DynamoItem>;
  getItem(table: string, key: DynamoItem): Promise<DynamoItem | undefined>;
  /** Creates the table (idempotent) and waits until it is active. */
  createTable(table: string, schema: TableSchema): Promise<void>;
  /** Writes items in batches (idempotent puts). */
  putItems(table: string, items: DynamoItem[]): Promise<void>;
  deleteTable(table: string): Promise<void>;
}

export interface ListedObject {
  key: string;
  size: number;
}

/** An object opened for reading: its body as a stream (a range of it, when one was asked for). */
export interface OpenedObject {
  body: Readable;
  /** The whole object's size, whatever the range. */
  size: number;
  contentType?: string;
  metadata: Record<string, string>;
}

/** S3 prefixes as DR sees them. */
export interface ObjectData {
  list(bucket: string, prefix: string): AsyncIterable<ListedObject>;
  read(bucket: string, key: string): Promise<{ body: Buffer; contentType?: string; metadata: Record<string, string> } | undefined>;
  /** The object as a stream (bytes `range.start`..`range.end`, inclusive, when given), or undefined when it does not exist. */
  open(bucket: string, key: string, range?: { start: number; end: number }): Promise<OpenedObject | undefined>;
  write(bucket: string, key: string, object: { body: Buffer; contentType?: string; metadata: Record<string, string> }): Promise<void>;
  /** Writes an object from a stream of `size` bytes (a multipart upload when large), never holding it whole. */
  writeStream(bucket: string, key: string, object: { body: Readable; size: number; contentType?: string; metadata: Record<string, string> }): Promise<void>;
  deletePrefix(bucket: string, prefix: string): Promise<void>;
}

/** The versioned artifact bucket. */
export interface Vault {
  readonly bucket: string;
  /** A streaming (multipart) upload of one part. */
  openUpload(key: string): { stream: Writable; done: Promise<{ versionId?: string }> };
  putSmall(key: string, body: Buffer, contentType: string): Promise<{ versionId?: string }>;
  /** The object as a stream, or undefined when it does not exist. */
  openRead(key: string, versionId?: string): Promise<Readable | undefined>;
  readSmall(key: string, versionId?: string): Promise<{ body: Buffer; versionId?: string } | undefined>;
  /** The key of the object version with this id, under a prefix. */
  findVersion(prefix: string, versionId: string): Promise<string | undefined>;
}

/** The manifest signing key (KMS, ECC_NIST_P256, ECDSA_SHA_256 over a SHA-256 digest). */
export interface ManifestSigner {
  readonly keyId: string;
  sign(digest: Buffer): Promise<{ signature: Buffer; keyId: string }>;
  /** Whether the signature over `digest` verifies with the trusted key. */
  verify(digest: Buffer, signature: Buffer): Promise<boolean>;
  publicKeyPem(): Promise<string>;
}

export interface DrWorkflows {
  startBackup(jobId: string, correlationId: string): Promise<void>;
  startRestore(jobId: string, correlationId: string): Promise<void>;
}

export interface DrDeps {
  repo: DrRepository;
  tables: TableData;
  objects: ObjectData;
  vault: Vault;
  signer: ManifestSigner;
  workflows: DrWorkflows;
  targets: DrTarget[];
  clock: () => Date;
  newId: () => string;
}

export type { DataCopy };

/** What the `dr.approve-restore` action may do with a restore job: describe it, resume or abandon its wait. */
export interface RestoreGate {
  describe(jobId: string): Promise<{ target: string; snapshotId?: string; from?: string; to?: string; environment?: string }>;
  resume(jobId: string): Promise<void>;
  abandon(jobId: string, runStatus: string): Promise<void>;
}
