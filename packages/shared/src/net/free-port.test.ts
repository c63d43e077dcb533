import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { freePort, portIsFree } from './free-port.js';

describe('freePort', () => {
  it('hands out distinct free ports from below the kernel ephemeral range, where bind(0) never picks', async () => {
    const ephemeralLow = Number(
      readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0],
    );
    const ports: number[] = [];
    for (let i = 0; i < 50; i++) ports.push(await freePort());
    expect(new Set(ports).size).toBe(ports.length);
    for (const port of ports) {
      expect(port).toBeGreaterThanOrEqual(10_000);
      expect(port).toBeLessThan(ephemeralLow);
      expect(await portIsFree(port)).toBe(true);
    }
  });
});
