import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { waitFor } from '@agent-sidecars/shared/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { logSidecars, tempDir } from './log-sidecar-process.js';

const processes = logSidecars();
afterEach(() => processes.cleanup());

describe('log-sidecar discovery at shutdown (built binary)', () => {
  it('reads a file the agent created after the last scan, when SIGTERM comes before the next', async () => {
    const dir = tempDir();
    // A scan interval far beyond the test: only the last listing at shutdown can find the late file.
    const sidecar = processes.start(['--path', join(dir, '*.log'), '--scan-interval', '10m']);
    await sidecar.ready();
    await waitFor(
      'the first scan',
      async () => (await sidecar.metric('log_sidecar_discovery_scans_total')) >= 1,
    );
    writeFileSync(join(dir, 'late.log'), '{"msg":"written just before the Pod ended"}\npartial last line');
    expect(await sidecar.stop()).toBe(0);
    expect(sidecar.messages()).toEqual([
      JSON.stringify({ msg: 'written just before the Pod ended' }),
      'partial last line',
    ]);
  });
});
