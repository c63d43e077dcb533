import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RouteHandler } from '@agent-sidecars/shared';
import type { ExpositionFormat } from '../scrape/snapshot.js';
import { CONTENT_TYPES, ContentNegotiator } from './content-negotiation.js';
import type { ExpositionCache } from './exposition-cache.js';

/**
 * The merged `/metrics` route for the shared HealthServer (which answers 405 to anything but GET and
 * HEAD): negotiates the format and gzip, then sends the cached body.
 */
export function createMetricsRoute(cache: ExpositionCache): RouteHandler {
  const negotiator = new ContentNegotiator();
  return (request, response) => {
    const { format, gzip } = negotiator.negotiate(request.headers.accept, request.headers['accept-encoding']);
    const ready = cache.ready(format, gzip);
    if (ready !== undefined) {
      send(request, response, ready, format, gzip);
      return;
    }
    return cache.body(format, gzip).then((body) => send(request, response, body, format, gzip));
  };
}

function send(
  request: IncomingMessage,
  response: ServerResponse,
  body: Buffer,
  format: ExpositionFormat,
  gzip: boolean,
): void {
  response.writeHead(
    200,
    gzip
      ? {
          'Content-Type': CONTENT_TYPES[format],
          'Content-Encoding': 'gzip',
          'Content-Length': body.length,
          Vary: 'Accept, Accept-Encoding',
          'Cache-Control': 'no-store',
        }
      : {
          'Content-Type': CONTENT_TYPES[format],
          'Content-Length': body.length,
          Vary: 'Accept, Accept-Encoding',
          'Cache-Control': 'no-store',
        },
  );
  response.end(request.method === 'HEAD' ? undefined : body);
}
