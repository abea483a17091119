import { ActionCatalog } from '../core/actions/catalog.ts';
import { drApproveRestore } from './dr-approve-restore.ts';
import { dynamodbPutItem } from './dynamodb-put-item.ts';
import { httpFetch } from './http-fetch.ts';
import { noop } from './noop.ts';
import { s3PutObject } from './s3-put-object.ts';
import { runUndoTask } from './run-undo-task.ts';

/** The built-in actions. */
export const defaultCatalog = () => new ActionCatalog([noop, s3PutObject, dynamodbPutItem, httpFetch, drApproveRestore, runUndoTask]);
