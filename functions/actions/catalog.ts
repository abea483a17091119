import { ActionCatalog } from '../core/actions/catalog.ts';
import type { Action } from '../core/actions/contract.ts';
import { drApproveRestore } from './dr-approve-restore.ts';
import { dynamodbPutItem } from './dynamodb-put-item.ts';
import { httpFetch } from './http-fetch.ts';
import { noop } from './noop.ts';
import { s3PutObject } from './s3-put-object.ts';

/** The built-in actions, and any given besides them (a name may be registered once). */
export const defaultCatalog = (extra: readonly Action[] = []) => new ActionCatalog([noop, s3PutObject, dynamodbPutItem, httpFetch, drApproveRestore, ...extra]);
