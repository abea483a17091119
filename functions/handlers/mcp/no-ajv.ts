/**
 * What `ajv` and `ajv-formats` are in a Lambda bundle (lib/maestro-function.ts aliases both here): the
 * MCP SDK's server module imports its ajv validator statically, but only uses it to check an
 * elicitation's answer, and Maestro's server never elicits and gives its own validator
 * (maestro-tools.ts). Without the alias ajv would be about 140 KiB of the API bundle, evaluated at its import.
 */
export default function ajvNotBundled(): never {
  throw new Error('ajv is not bundled in Maestro functions: the MCP server validates its tools with zod and never elicits');
}
