// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${VAR} references are the subject here, not template slips.
import { describe, expect, it } from 'vitest';
import { InvalidValue } from './config-error.js';
import { substituteEnv, substituteEnvDeep } from './env-substitution.js';

const env = { LOKI_URL: 'http://loki:3100', EMPTY: '', TEAM: 'search' };

function problemOf(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidValue);
    return (error as InvalidValue).message;
  }
  throw new Error('expected InvalidValue');
}

describe('substituteEnv', () => {
  it.each([
    ['${LOKI_URL}', 'http://loki:3100'],
    ['${env:LOKI_URL}/loki/api/v1/push', 'http://loki:3100/loki/api/v1/push'],
    ['team-${TEAM}-${TEAM}', 'team-search-search'],
    ['${UNSET:-http://127.0.0.1:3100}', 'http://127.0.0.1:3100'],
    ['${EMPTY:-fallback}', 'fallback'],
    ['${TEAM:-fallback}', 'search'],
    ['${EMPTY}', ''],
    ['pa$$word', 'pa$word'],
    ['$$${TEAM}', '$search'],
    ['cost: $5', 'cost: $5'],
    ['no references', 'no references'],
  ])('turns %j into %j', (text, expected) => expect(substituteEnv(text, env)).toBe(expected));

  it('rejects an unset variable without a default, naming it and the fix', () => {
    expect(problemOf(() => substituteEnv('${LOKI_ULR}', env))).toBe(
      'uses ${LOKI_ULR}, which is not set in the environment; set LOKI_ULR, or give a default as in ${LOKI_ULR:-value}',
    );
  });

  it.each(['${}', '${1X}', '${LOKI_URL', '${A B}'])('rejects the malformed reference %j', (text) => {
    expect(problemOf(() => substituteEnv(text, env))).toMatch(/^has a malformed reference/);
  });

  it('substitutes inside lists and mappings, naming the place of a failure', () => {
    expect(substituteEnvDeep([{ url: '${LOKI_URL}', gzip: true }], env)).toEqual([
      { url: 'http://loki:3100', gzip: true },
    ]);
    expect(problemOf(() => substituteEnvDeep([{ type: 'http' }, { url: '${NOPE}' }], env))).toMatch(
      /^item 2, field url: uses \$\{NOPE\}/,
    );
  });
});
