// Preloaded by `startup-idle.mjs --heap-spaces` (node --import): writes the process's V8 heap spaces to
// $HEAP_SPACES_FILE once a second, so the bench can say which space holds what RSS at idle. The timer is
// unref'd: it never keeps the sidecar alive, and it writes nothing anywhere else.
import { writeFileSync } from 'node:fs';
import { getHeapSpaceStatistics, getHeapStatistics } from 'node:v8';

const file = process.env.HEAP_SPACES_FILE;
if (file) {
  setInterval(() => {
    const spaces = Object.fromEntries(
      getHeapSpaceStatistics().map((s) => [
        s.space_name,
        { size: s.space_size, used: s.space_used_size, available: s.space_available_size },
      ]),
    );
    const { total_heap_size, used_heap_size, external_memory, malloced_memory } = getHeapStatistics();
    writeFileSync(
      file,
      JSON.stringify({
        spaces,
        total: total_heap_size,
        used: used_heap_size,
        external: external_memory ?? process.memoryUsage().external,
        malloced: malloced_memory,
      }),
    );
  }, 1000).unref();
}
