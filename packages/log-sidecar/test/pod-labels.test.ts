// --pod-labels end to end: the built binary reads a Downward API labels file as the kubelet writes it
// and puts the chosen labels on every record it ships; without the file it refuses to start (exit 2).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { waitFor } from '@agent-sidecars/shared/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { logSidecars, tempDir } from './log-sidecar-process.js';

const processes = logSidecars();
afterEach(() => processes.cleanup());

describe('log-sidecar --pod-labels (built binary)', () => {
  it('puts the chosen Pod labels on every record, under label names, and says which the Pod lacks', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'labels'), 'app.kubernetes.io/version="1.4.2"\nteam="search"\nother="x"\n');
    writeFileSync(join(dir, 'app.log'), '{"msg":"one"}\n');
    const sidecar = processes.start(
      [
        '--path',
        join(dir, '*.log'),
        '--pod-labels-file',
        join(dir, 'labels'),
        '--label',
        'team=platform',
        '--batch-timeout',
        '20ms',
      ],
      // The comma list, as the Component's log-sidecar-env ConfigMap sets it.
      { env: { POD_NAME: 'shop-api-0', LOG_SIDECAR_POD_LABELS: 'app.kubernetes.io/version,team,tier' } },
    );
    await sidecar.ready();
    await waitFor('the record', () => sidecar.records.length === 1);
    // --label wins over a Pod label of the same name; a label the Pod lacks is left out and logged.
    expect(sidecar.records[0]?.labels).toEqual({
      app_kubernetes_io_version: '1.4.2',
      team: 'platform',
      pod: 'shop-api-0',
    });
    expect(sidecar.logged('Pod labels not on the Pod; records go without them.')[0]?.labels).toEqual([
      'tier',
    ]);
    expect(await sidecar.stop()).toBe(0);
  });

  it('exits 2 naming --pod-labels-file when the labels file is not there', async () => {
    const dir = tempDir();
    const sidecar = processes.start([
      '--path',
      join(dir, '*.log'),
      '--pod-labels',
      'app',
      '--pod-labels-file',
      join(dir, 'missing'),
    ]);
    expect((await sidecar.exited).code).toBe(2);
    expect(sidecar.stderrText).toMatch(
      /--pod-labels-file: ".*missing" cannot be read \(ENOENT\) and --pod-labels is set/,
    );
  });
});
