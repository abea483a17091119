import dgram from 'node:dgram';
import dns from 'node:dns';
import { isIP } from 'node:net';
import net from 'node:net';

/** A TCP destination the sandboxed code may open: exact host and port, and the addresses it may resolve to. */
export interface AllowedConnect {
  host: string;
  port: number;
  /** Every address a connection to `host` may land on (an IP literal host must be one of them). */
  addresses: readonly string[];
}

type Lookup = (hostname: string, options: unknown, callback: (error: Error | null, address?: string | { address: string }[], family?: number) => void) => void;

let refusals = 0;
/** How many times the confinement has refused something in this process (a caught refusal counts too: the worker is recycled). */
export const refusalCount = (): number => refusals;

/** The error Node's permission model throws, so the runner reports it the same way (SandboxViolation, breach named). */
function refusal(permission: 'Signal' | 'Net', resource: string): Error {
  refusals += 1;
  return Object.assign(new Error(`Access to this API has been restricted by the sandbox (${permission}: ${resource})`), {
    code: 'ERR_ACCESS_DENIED',
    permission,
    resource,
  });
}

/**
 * Closes, inside the sandbox process and before any action code is imported, what Node 24's
 * permission model leaves open: signals to other processes and network connections. It interposes on
 * the only JavaScript entry points to them (process.kill / process._kill; net.Socket#connect, which
 * net, tls, http, https and fetch all go through; net.Server#listen; dgram), and freezes them so code cannot put the
 * originals back (it never holds them). This is an interposition in the JavaScript runtime, not an OS
 * boundary: a native add-on, a child process or process.binding could bypass it, and those are what
 * the permission model refuses. DNS queries (getaddrinfo) still leave the process.
 */
export function confineProcess(allowConnect: readonly AllowedConnect[]): void {
  const ownPid = process.pid;
  const rawKill = process.kill.bind(process);
  const kill = (pid: number, signal?: string | number) => {
    if (Number(pid) !== ownPid) throw refusal('Signal', `pid ${pid}`);
    return rawKill(pid, signal);
  };
  Object.defineProperty(process, 'kill', { value: kill, writable: false, configurable: false });
  Object.defineProperty(process, '_kill', {
    value: () => {
      throw refusal('Signal', 'process._kill');
    },
    writable: false,
    configurable: false,
  });

  const connect = net.Socket.prototype.connect;
  function confinedConnect(this: net.Socket, ...args: unknown[]): net.Socket {
    // net.connect passes its already-normalised [options, callback] array; a direct call passes (options | port[, host], callback).
    const normalised = Array.isArray(args[0]) ? (args[0] as unknown[]) : args;
    const first = normalised[0];
    const callback = normalised.find((arg) => typeof arg === 'function') as (() => void) | undefined;
    let options: net.TcpSocketConnectOpts & { path?: string; lookup?: Lookup };
    if (first !== null && typeof first === 'object') options = { ...(first as object) } as typeof options;
    else if (typeof first === 'string' && !/^\d+$/.test(first)) options = { path: first } as typeof options;
    else options = { port: Number(first), host: typeof normalised[1] === 'string' ? normalised[1] : undefined };
    const host = options.host ?? 'localhost';
    const entry =
      typeof options.path !== 'string' ? allowConnect.find((candidate) => candidate.host === host && candidate.port === Number(options.port)) : undefined;
    const refuse = (resource: string) => {
      const error = refusal('Net', resource);
      process.nextTick(() => this.destroy(error));
      return this;
    };
    if (!entry) return refuse(typeof options.path === 'string' ? `socket ${options.path}` : `${host}:${options.port}`);
    if (isIP(host) && !entry.addresses.includes(host)) return refuse(`${host}:${options.port}`);
    const inner = (options.lookup ?? dns.lookup) as Lookup;
    const pinned: Lookup = (hostname, lookupOptions, done) =>
      inner(hostname, lookupOptions, (error, address, family) => {
        if (error) return done(error);
        const found = Array.isArray(address) ? address.map((entryAddress) => entryAddress.address) : [address as string];
        const stray = found.find((candidate) => !entry.addresses.includes(candidate));
        if (stray !== undefined) return done(refusal('Net', `${hostname} resolved to ${stray}`));
        done(null, address, family);
      });
    return (connect as (...connectArgs: unknown[]) => net.Socket).call(this, { ...options, lookup: pinned }, callback);
  }
  Object.defineProperty(net.Socket.prototype, 'connect', { value: confinedConnect, writable: false, configurable: false });

  Object.defineProperty(net.Server.prototype, 'listen', {
    value: () => {
      throw refusal('Net', 'listen');
    },
    writable: false,
    configurable: false,
  });
  const refuseUdp = () => {
    throw refusal('Net', 'udp');
  };
  for (const method of ['send', 'connect', 'bind'] as const)
    Object.defineProperty(dgram.Socket.prototype, method, { value: refuseUdp, writable: false, configurable: false });
}
