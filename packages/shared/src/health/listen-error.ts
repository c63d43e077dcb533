import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import type { Logger } from 'pino';
import { exitOnConfigError, type ProgramIo } from '../config/command-line.js';
import { ConfigError } from '../config/config-error.js';
import type { ListenAddress } from '../config/parsers.js';

const LISTEN_HINT =
  'use an IP address of this machine or a name that resolves to one, e.g. :9090 or 127.0.0.1:9090';

function shown(address: ListenAddress): string {
  return address.host.includes(':') ? `[${address.host}]:${address.port}` : `${address.host}:${address.port}`;
}

/** For --dry-run: a listen host that does not resolve is a config error, found without binding anything. */
export async function checkListenAddress(address: ListenAddress, option = '--listen'): Promise<void> {
  if (isIP(address.host) !== 0) return;
  try {
    await lookup(address.host);
  } catch (error) {
    throw new ConfigError(
      option,
      shown(address),
      `names a host that does not resolve (${(error as NodeJS.ErrnoException).code ?? 'lookup failed'})`,
      LISTEN_HINT,
    );
  }
}

/**
 * What a failed listen means, as one line. A host that does not resolve, is not this machine's, or a port
 * we may not bind is the config's fault (exit 2); a port in use is the machine's state (exit 1), and the
 * line names the option to change. Undefined for an error that is not one of those.
 */
export function listenFailure(
  error: unknown,
  address: ListenAddress,
  option = '--listen',
):
  | { readonly exitCode: 1; readonly message: string }
  | { readonly exitCode: 2; readonly error: ConfigError }
  | undefined {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  const where = shown(address);
  switch (code) {
    case 'EADDRINUSE':
      return {
        exitCode: 1,
        message: `Cannot listen on ${where}: the port is in use by another process; stop that process or choose another port with ${option}.`,
      };
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EAI_FAIL':
      return {
        exitCode: 2,
        error: new ConfigError(option, where, `names a host that does not resolve (${code})`, LISTEN_HINT),
      };
    case 'EADDRNOTAVAIL':
      return {
        exitCode: 2,
        error: new ConfigError(
          option,
          where,
          'is not an address of this machine (EADDRNOTAVAIL)',
          LISTEN_HINT,
        ),
      };
    case 'EACCES':
      return {
        exitCode: 2,
        error: new ConfigError(
          option,
          where,
          'is a port this process may not bind (EACCES)',
          'use a port above 1023, e.g. :9090',
        ),
      };
    default:
      return undefined;
  }
}

/**
 * For a main whose listener failed to start: one line and the documented exit code (2 for a config
 * fault, printed like every config error; 1 for a port in use, logged). Anything unexpected is rethrown.
 */
export function exitOnListenFailure(
  program: string,
  error: unknown,
  address: ListenAddress,
  logger: Logger,
  io: ProgramIo,
): never {
  const failure = listenFailure(error, address);
  if (failure === undefined) throw error;
  if (failure.exitCode === 2) return exitOnConfigError(program, failure.error, io);
  logger.fatal({ listen: shown(address), code: 'EADDRINUSE' }, failure.message);
  return io.exit(1);
}
