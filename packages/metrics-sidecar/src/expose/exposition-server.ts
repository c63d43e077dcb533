import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RouteHandler } from '@agent-sidecars/shared';
import { CONTENT_TYPES } from '../media-types.js';
import type { ExpositionFormat } from '../scrape/snapshot.js';
import { ContentNegotiator } from './content-negotiation.js';
import { type ExpositionCache, variantIndex } from './exposition-cache.js';

/**
 * The merged `/metrics` route for the shared HealthServer (which answers 405 to anything but GET and
 * HEAD): negotiates the format and gzip, then sends the cached body. The headers of each cached body are
 * built once too, as a flat array, the cheapest form for writeHead.
 */
export function createMetricsRoute(cache: ExpositionCache): RouteHandler {
  const negotiator = new ContentNegotiator();
  const sentBodies: (Buffer | undefined)[] = [undefined, undefined, undefined, undefined];
  const sentHeaders: string[][] = [[], [], [], []];
  const send = (
    request: IncomingMessage,
    response: ServerResponse,
    body: Buffer,
    format: ExpositionFormat,
    gzip: boolean,
  ): void => {
    const slot = variantIndex(format, gzip);
    if (sentBodies[slot] !== body) {
      sentBodies[slot] = body;
      sentHeaders[slot] = headersFor(body, format, gzip);
    }
    response.writeHead(200, sentHeaders[slot]);
    response.end(request.method === 'HEAD' ? undefined : body);
  };
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

function headersFor(body: Buffer, format: ExpositionFormat, gzip: boolean): string[] {
  const headers = ['Content-Type', CONTENT_TYPES[format]];
  if (gzip) headers.push('Content-Encoding', 'gzip');
  // No Cache-Control: nothing caches /metrics, and each header costs every answer.
  headers.push('Content-Length', String(body.length), 'Vary', 'Accept, Accept-Encoding');
  return headers;
}
