import { definePack } from '../../functions/core/actions/pack-api.ts';
import { dynamodbCounter } from './actions/dynamodb-counter.ts';
import { s3PutJson } from './actions/s3-put-json.ts';

/** The example pack: what Maestro loads (maestro.config.yaml `packs`), checks and pins. */
export const pack = definePack({
  name: 'example',
  version: '1.0.0',
  actions: [s3PutJson, dynamodbCounter],
});
