/** ARN helpers for the local endpoint: names in, ARNs out, and back. */

export function stateMachineArn(region: string, accountId: string, name: string): string {
  return `arn:aws:states:${region}:${accountId}:stateMachine:${name}`;
}

export function executionArn(region: string, accountId: string, stateMachineName: string, name: string): string {
  return `arn:aws:states:${region}:${accountId}:execution:${stateMachineName}:${name}`;
}

export interface ParsedExecutionArn {
  region: string;
  accountId: string;
  stateMachineName: string;
  name: string;
}

const EXECUTION_ARN = /^arn:aws[a-z-]*:states:([a-z0-9-]*):(\d*):execution:([^:]+):([^:]+)$/;
const STATE_MACHINE_ARN = /^arn:aws[a-z-]*:states:[a-z0-9-]*:\d*:stateMachine:[^:]+$/;

export function parseExecutionArn(arn: string): ParsedExecutionArn | undefined {
  const match = EXECUTION_ARN.exec(arn);
  if (!match) return undefined;
  return { region: match[1], accountId: match[2], stateMachineName: match[3], name: match[4] };
}

export function isStateMachineArn(arn: string): boolean {
  return STATE_MACHINE_ARN.test(arn);
}

const LAMBDA_FUNCTION_ARN = /^arn:aws[a-z-]*:lambda:[^:]*:[^:]*:function:([^:]+)(?::[^:]+)?$/;

export function isLambdaFunctionArn(value: string): boolean {
  return LAMBDA_FUNCTION_ARN.test(value);
}

/**
 * The bare function name in a Lambda FunctionName, which AWS accepts as a name, a full or partial
 * ARN, optionally with a version or alias qualifier.
 */
export function lambdaFunctionName(functionName: string): string {
  const full = LAMBDA_FUNCTION_ARN.exec(functionName);
  if (full) return full[1];
  const partial = /^(?:\d+:)?function:([^:]+)(?::[^:]+)?$/.exec(functionName);
  if (partial) return partial[1];
  return functionName.split(':')[0];
}

/** AWS execution-name rules: 1 to 80 characters, no whitespace, brackets, wildcards or URL-special characters. */
export function isValidExecutionName(name: string): boolean {
  return name.length >= 1 && name.length <= 80 && !/[\s<>{}[\]?*"#%\\^|~`$&,;:/\u0000-\u001f\u007f-\u009f]/.test(name);
}
