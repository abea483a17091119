import { Logger } from '@aws-lambda-powertools/logger';

/** Structured JSON logs (Powertools); POWERTOOLS_LOG_LEVEL sets the level. */
export const logger = new Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'maestro' });
