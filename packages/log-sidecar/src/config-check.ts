import { access, constants } from 'node:fs/promises';
import { ConfigError, checkListenAddress } from '@agent-sidecars/shared';
import type { LogSidecarConfig } from './config.js';
import { readCa } from './sink/sink-factory.js';
import { resolveSinkSpecs, sinkSettingName } from './sink/sink-options.js';

/**
 * For --dry-run: what starting would find wrong beyond the config itself, checked without binding a port
 * or creating a file: the listen host resolves, and every secret and CA file a sink names can be read
 * now (a running sidecar re-reads them, so a later change is still picked up).
 */
export async function checkConfigFiles(
  config: LogSidecarConfig,
  env: Readonly<Record<string, string | undefined>>,
): Promise<void> {
  await checkListenAddress(config.listen);
  for (const spec of resolveSinkSpecs(config, undefined, { env })) {
    if (spec.kind !== 'http') continue;
    const name = (flag: string, field: string) => sinkSettingName(spec, flag, field);
    const secrets: [string | undefined, string, string][] = [
      [spec.tokenFile, '--sink-token-file', 'tokenFile'],
      [spec.basicAuthFile, '--sink-basic-auth-file', 'basicAuthFile'],
      ...spec.headerFiles.map(
        ([header, path]) =>
          [path, '--sink-header-file', `headerFiles (${header})`] as [string, string, string],
      ),
    ];
    for (const [path, flag, field] of secrets) {
      if (path === undefined) continue;
      try {
        await access(path, constants.R_OK);
      } catch (error) {
        throw new ConfigError(
          name(flag, field),
          path,
          `cannot be read (${(error as NodeJS.ErrnoException).code ?? 'unreadable'})`,
          'mount the Secret that holds it, or give the path of a readable file',
        );
      }
    }
    if (spec.caFile !== undefined) readCa(spec.caFile, name('--sink-ca-file', 'caFile'));
  }
}
