import { ActionCatalog } from '../core/actions/catalog.ts';
import type { Action } from '../core/actions/contract.ts';
import { drApproveRestore } from './dr-approve-restore.ts';
import { dynamodbDeleteItem } from './dynamodb-delete-item.ts';
import { dynamodbPutItem } from './dynamodb-put-item.ts';
import { dynamodbUpdateItem } from './dynamodb-update-item.ts';
import { httpFetch } from './http-fetch.ts';
import { lambdaShiftAlias } from './lambda-shift-alias.ts';
import { noop } from './noop.ts';
import { s3CopyObject } from './s3-copy-object.ts';
import { s3DeleteObject } from './s3-delete-object.ts';
import { runUndoTask } from './run-undo-task.ts';
import { s3PutObject } from './s3-put-object.ts';
import { ssmPutParameter } from './ssm-put-parameter.ts';

/** The built-in actions, and any given besides them (a name may be registered once). */
export const defaultCatalog = (extra: readonly Action[] = []) =>
  new ActionCatalog([
    noop,
    s3PutObject,
    s3DeleteObject,
    s3CopyObject,
    dynamodbPutItem,
    dynamodbUpdateItem,
    dynamodbDeleteItem,
    httpFetch,
    lambdaShiftAlias,
    ssmPutParameter,
    drApproveRestore,
    runUndoTask,
    ...extra,
  ]);
