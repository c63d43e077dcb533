/**
 * Seeded generation of exposition bodies for the differential test: valid OpenMetrics families of every
 * type, then mutations that break (or keep) them in the ways the spec's rules are about.
 */
type Rng = () => number;
const pick = <T>(rng: Rng, items: readonly T[]): T => items[Math.floor(rng() * items.length)]!;
const int = (rng: Rng, n: number): number => Math.floor(rng() * n);

const LABEL_VALUES = ['a', 'b b', 'x\\"y', 'back\\\\slash', 'new\\nline', '日本', '🙂', '', 'z'];
const LE = ['0.005', '0.1', '1.0', '2.5', '10.0', '1e+06'];

function labels(rng: Rng, extra: string[] = []): string {
  const pairs = [...extra];
  const count = int(rng, 3);
  const names = ['code', 'path', 'zone'];
  for (let k = 0; k < count; k++) pairs.unshift(`${names[k]}="${pick(rng, LABEL_VALUES)}"`);
  return pairs.length === 0 ? (rng() < 0.2 ? '{}' : '') : `{${pairs.join(',')}}`;
}

/** Lines of one valid family (metadata first), `ts` a timestamp suffix shared by its samples or ''. */
function family(rng: Rng, name: string, ts: string): string[] {
  const type = pick(rng, [
    'counter',
    'gauge',
    'histogram',
    'gaugehistogram',
    'summary',
    'info',
    'stateset',
    'unknown',
  ]);
  const lines = [`# TYPE ${name} ${type}`];
  if (rng() < 0.5) lines.push(`# HELP ${name} Help with \\\\ and \\n and "quotes".`);
  const sets = 1 + int(rng, 2);
  const setLabels = Array.from({ length: sets }, (_, k) => labels(rng, [`set="${k}"`]).slice(1, -1));
  const sep = (inner: string, extra: string) => `{${[inner, extra].filter((x) => x !== '').join(',')}}`;
  for (const inner of setLabels) {
    const l = sep(inner, '');
    switch (type) {
      case 'counter':
        lines.push(`${name}_total${l} ${int(rng, 1000)}${ts}${rng() < 0.3 ? ' # {trace_id="t1"} 1.5' : ''}`);
        if (rng() < 0.5) lines.push(`${name}_created${l} 1700000000.5${ts}`);
        break;
      case 'gauge':
      case 'unknown':
        lines.push(`${name}${l} ${pick(rng, ['1', '-2.5', '1e3', 'NaN', '+Inf', '-Inf', '0'])}${ts}`);
        break;
      case 'histogram':
      case 'gaugehistogram': {
        let count = 0;
        for (const le of LE.slice(0, 1 + int(rng, LE.length))) {
          count += int(rng, 5);
          lines.push(`${name}_bucket${sep(inner, `le="${le}"`)} ${count}${ts}`);
        }
        count += int(rng, 5);
        lines.push(`${name}_bucket${sep(inner, 'le="+Inf"')} ${count}${ts}`);
        if (rng() < 0.7) {
          const g = type === 'histogram' ? '' : 'g';
          lines.push(
            `${name}_${g}count${l} ${count}${ts}`,
            `${name}_${g}sum${l} ${(count * 0.25).toFixed(2)}${ts}`,
          );
        }
        if (type === 'histogram' && rng() < 0.3) lines.push(`${name}_created${l} 1700000000${ts}`);
        break;
      }
      case 'summary':
        for (const q of ['0.5', '0.9', '0.99'].slice(0, int(rng, 4))) {
          lines.push(`${name}${sep(inner, `quantile="${q}"`)} ${pick(rng, ['1.5', '0', 'NaN'])}${ts}`);
        }
        lines.push(`${name}_count${l} ${int(rng, 9)}${ts}`, `${name}_sum${l} ${int(rng, 9)}.5${ts}`);
        break;
      case 'info':
        lines.push(`${name}_info${sep(inner, 'version="1.2"')} 1${ts}`);
        break;
      case 'stateset':
        for (const state of ['on', 'off'])
          lines.push(`${name}${sep(inner, `${name}="${state}"`)} ${state === 'on' ? 1 : 0}${ts}`);
        break;
    }
  }
  return lines;
}

/** A valid OpenMetrics body of one to four families, as lines without the final `# EOF`. */
export function validBody(rng: Rng): string[] {
  const lines: string[] = [];
  const count = 1 + int(rng, 4);
  for (let k = 0; k < count; k++) {
    const ts = rng() < 0.2 ? ` ${1700000000 + int(rng, 1000)}` : '';
    lines.push(...family(rng, `fam${k}_${pick(rng, ['a', 'b', 'c'])}`, ts));
  }
  return lines;
}

const sampleLines = (lines: string[]) =>
  lines.map((line, k) => [line, k] as const).filter(([line]) => !line.startsWith('#'));

/** The mutations, each a name and a change to the lines (in place). */
export const MUTATIONS: readonly {
  readonly name: string;
  readonly apply: (rng: Rng, lines: string[]) => void;
}[] = [
  {
    name: 'swap adjacent lines',
    apply: (rng, lines) => {
      const k = int(rng, lines.length - 1);
      [lines[k], lines[k + 1]] = [lines[k + 1]!, lines[k]!];
    },
  },
  {
    name: 'drop a line',
    apply: (rng, lines) => {
      lines.splice(int(rng, lines.length), 1);
    },
  },
  {
    name: 'drop the +Inf bucket',
    apply: (_rng, lines) => {
      const k = lines.findIndex((l) => l.includes('le="+Inf"'));
      if (k >= 0) lines.splice(k, 1);
    },
  },
  {
    name: 'negate a value',
    apply: (rng, lines) => {
      const s = sampleLines(lines);
      if (s.length === 0) return;
      const [line, k] = pick(rng, s);
      lines[k] = line.replace(/\} (\d)|^(\w+) (\d)/, (m) => m.replace(/ (\d)$/, ' -$1'));
    },
  },
  {
    name: 'make a value fractional',
    apply: (rng, lines) => {
      const s = sampleLines(lines);
      if (s.length === 0) return;
      const [line, k] = pick(rng, s);
      lines[k] = line.replace(/ (\d+)( |$)/, ' $1.5$2');
    },
  },
  {
    name: 'double a space',
    apply: (rng, lines) => {
      const k = int(rng, lines.length);
      lines[k] = lines[k]!.replace(' ', '  ');
    },
  },
  {
    name: 'trailing space',
    apply: (rng, lines) => {
      const k = int(rng, lines.length);
      lines[k] = `${lines[k]} `;
    },
  },
  {
    name: 'space before labels',
    apply: (rng, lines) => {
      const k = int(rng, lines.length);
      lines[k] = lines[k]!.replace(/^(\w+)\{/, '$1 {');
    },
  },
  {
    name: 'tab separator',
    apply: (rng, lines) => {
      const k = int(rng, lines.length);
      lines[k] = lines[k]!.replace(/\} /, '}\t');
    },
  },
  {
    name: 'inject an escape',
    apply: (rng, lines) => {
      const k = int(rng, lines.length);
      lines[k] = lines[k]!.replace(/="/, `="\\${pick(rng, ['z', 'f', 't', '\\', '"'])}`);
    },
  },
  {
    name: 'interleave a sample into a later family',
    apply: (rng, lines) => {
      const s = sampleLines(lines);
      if (s.length < 2) return;
      const [line, k] = s[int(rng, s.length - 1)]!;
      lines.splice(k, 1);
      lines.push(line);
    },
  },
  {
    name: 'repeat a line',
    apply: (rng, lines) => {
      const k = int(rng, lines.length);
      lines.splice(k, 0, lines[k]!);
    },
  },
  {
    name: 'spell +Inf otherwise',
    apply: (rng, lines) => {
      const k = lines.findIndex((l) => l.includes('le="+Inf"'));
      if (k >= 0) lines[k] = lines[k]!.replace('+Inf', pick(rng, ['+INF', 'Inf', 'inf', 'NaN']));
    },
  },
  {
    name: 'add a UNIT',
    apply: (rng, lines) => {
      const k = lines.findIndex((l) => l.startsWith('# TYPE'));
      if (k >= 0) {
        const name = lines[k]!.split(' ')[2]!;
        lines.splice(k + 1, 0, `# UNIT ${name} ${pick(rng, ['a', 'b', 'seconds'])}`);
      }
    },
  },
  {
    name: 'change a TYPE',
    apply: (rng, lines) => {
      const k = lines.findIndex((l) => l.startsWith('# TYPE'));
      if (k >= 0)
        lines[k] = lines[k]!.replace(
          / \w+$/,
          ` ${pick(rng, ['counter', 'gauge', 'histogram', 'summary', 'info', 'untyped', 'stateset'])}`,
        );
    },
  },
  {
    name: 'repeat with a later timestamp',
    apply: (rng, lines) => {
      const s = sampleLines(lines);
      if (s.length === 0) return;
      const [line, k] = pick(rng, s);
      const base = line.replace(/ # .*$/, '').replace(/ \d{10}$/, '');
      lines.splice(k + 1, 0, `${base} 1800000000`);
      if (!/ \d{10}$/.test(line.replace(/ # .*$/, ''))) lines[k] = `${base} 1700000000`;
    },
  },
  {
    name: 'a blank line',
    apply: (rng, lines) => {
      lines.splice(int(rng, lines.length + 1), 0, '');
    },
  },
  {
    name: 'a comment',
    apply: (rng, lines) => {
      lines.splice(int(rng, lines.length + 1), 0, '# just a comment');
    },
  },
  {
    name: 'a NaN count',
    apply: (_rng, lines) => {
      const k = lines.findIndex((l) => /_count[{ ]/.test(l));
      if (k >= 0) lines[k] = lines[k]!.replace(/ \d+( |$)/, ' NaN$1');
    },
  },
  {
    name: 'a quantile out of range',
    apply: (_rng, lines) => {
      const k = lines.findIndex((l) => l.includes('quantile="'));
      if (k >= 0) lines[k] = lines[k]!.replace(/quantile="[^"]*"/, 'quantile="1.5"');
    },
  },
];

/** A body: valid, or with one to three mutations; returns it with the mutations' names. */
export function generatedBody(rng: Rng): { readonly lines: string[]; readonly mutations: string[] } {
  const lines = validBody(rng);
  const mutations: string[] = [];
  const rounds = rng() < 0.25 ? 0 : 1 + int(rng, 3);
  for (let k = 0; k < rounds; k++) {
    const mutation = pick(rng, MUTATIONS);
    mutation.apply(rng, lines);
    mutations.push(mutation.name);
  }
  return { lines, mutations };
}
