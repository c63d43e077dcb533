import { describe, expect, it } from 'vitest';
import { acceptsGzip, ContentNegotiator, negotiateFormat } from './content-negotiation.js';

describe('negotiateFormat', () => {
  it('gives Prometheus 2 OpenMetrics', () => {
    expect(
      negotiateFormat(
        'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1',
      ),
    ).toBe('openmetrics');
  });

  it('gives Prometheus 3 OpenMetrics, ignoring the escaping parameter', () => {
    expect(
      negotiateFormat(
        'application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.5,application/openmetrics-text;version=0.0.1;q=0.4,text/plain;version=1.0.0;escaping=allow-utf-8;q=0.3,text/plain;version=0.0.4;q=0.2,*/*;q=0.1',
      ),
    ).toBe('openmetrics');
  });

  it('gives text 0.0.4 without Accept, to curl and to browsers', () => {
    expect(negotiateFormat(undefined)).toBe('text');
    expect(negotiateFormat('*/*')).toBe('text');
    expect(negotiateFormat('text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8')).toBe('text');
  });

  it('follows q values and refuses q=0', () => {
    expect(negotiateFormat('text/plain;version=0.0.4;q=0.9, application/openmetrics-text;q=0.5')).toBe(
      'text',
    );
    expect(negotiateFormat('application/openmetrics-text;q=0, text/plain')).toBe('text');
    expect(negotiateFormat('text/plain;q=0.1, application/openmetrics-text; version="1.0.0"')).toBe(
      'openmetrics',
    );
  });

  it('does not claim versions it cannot write', () => {
    expect(
      negotiateFormat('application/openmetrics-text;version=2.0.0, text/plain;version=0.0.4;q=0.1'),
    ).toBe('text');
    expect(negotiateFormat('text/plain;version=1.0.0, application/openmetrics-text;q=0.2')).toBe(
      'openmetrics',
    );
  });

  it('falls back to text when nothing is acceptable', () => {
    expect(negotiateFormat('application/json')).toBe('text');
  });
});

describe('acceptsGzip', () => {
  it('reads Accept-Encoding', () => {
    expect(acceptsGzip('gzip')).toBe(true);
    expect(acceptsGzip('br, gzip;q=0.5')).toBe(true);
    expect(acceptsGzip('gzip;q=0')).toBe(false);
    expect(acceptsGzip('*')).toBe(true);
    expect(acceptsGzip('*, gzip;q=0')).toBe(false);
    expect(acceptsGzip('identity')).toBe(false);
    expect(acceptsGzip(undefined)).toBe(false);
  });
});

describe('ContentNegotiator', () => {
  it('answers the same header pair with the same object', () => {
    const negotiator = new ContentNegotiator(2);
    const first = negotiator.negotiate('application/openmetrics-text', 'gzip');
    expect(first).toEqual({ format: 'openmetrics', gzip: true });
    expect(negotiator.negotiate('application/openmetrics-text', 'gzip')).toBe(first);
  });
});
