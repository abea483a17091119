// A KMSClient aimed at a running emulator. The emulator does not check
// signatures, so any static credentials do.

import { KMSClient } from '@aws-sdk/client-kms';

export interface KmsEndpoint {
  url: string;
  region: string;
}

export function createLocalKmsClient(endpoint: KmsEndpoint): KMSClient {
  return new KMSClient({
    endpoint: endpoint.url,
    region: endpoint.region,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
}
