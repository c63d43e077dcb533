import { enumParser, integerParser, option, optionalOption } from '@agent-sidecars/shared';
import type { OnDeadline } from './delivery-driver.js';

const ON_DEADLINE: readonly OnDeadline[] = ['stdout', 'drop'];

/** How records are delivered to every sink, to spread into log-sidecar's option definitions. */
export const deliveryOptions = {
  sinkRetryLimit: optionalOption(integerParser(1, 1_000_000), {
    description: 'attempts per batch before its records are counted as lost',
    valueName: '<n>',
    defaultText: 'unlimited',
  }),
  maxInFlight: option(integerParser(1, 64), {
    description: 'requests open at once per sink',
    valueName: '<n>',
    default: 2,
    defaultText: '2',
  }),
  onDeadline: option<OnDeadline>(enumParser(ON_DEADLINE), {
    description:
      'what happens at the shutdown deadline to lines a sink has not acknowledged, read or not yet read: stdout writes them there, drop leaves them behind the checkpoint',
    valueName: '<stdout|drop>',
    default: 'stdout',
    defaultText: 'stdout',
  }),
} as const;
