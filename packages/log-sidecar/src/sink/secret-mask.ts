import { maskUrl } from '@agent-sidecars/shared';

/** Header names whose values are credentials (Splunk HEC, Datadog, API gateways, cookies). */
const SECRET_HEADER = /authorization|cookie|token|secret|password|api[-_]?key|-key$/i;

/** `Name: value` for --print-config, with the value of a credential header as ***. */
export function maskHeader([name, value]: readonly [string, string]): string {
  return `${name}: ${SECRET_HEADER.test(name) ? '***' : value}`;
}

/** A resolved sinks: item as --print-config shows it: URL password and credential headers masked. */
export function maskSinkItem(item: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const shown: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(item)) {
    if (value === undefined) continue;
    if (value instanceof URL) shown[key] = maskUrl(value);
    else if (key === 'headers' && Array.isArray(value)) {
      shown[key] = (value as [string, string][]).map(maskHeader);
    } else shown[key] = value;
  }
  return shown;
}
