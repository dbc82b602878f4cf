import { readFile } from 'node:fs/promises';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { incidentCharts } from '../../charts/incident-charts.ts';
import { chartPng, FONTS } from '../../charts/png.ts';
import type { SeriesHistory } from '../../charts/series-history.ts';
import type { Clock } from '../../core/index.ts';
import { coveringSilences } from '../../incidents/silences.ts';
import type { Delivery, IncidentStore } from '../../incidents/store.ts';
import { html } from '../pages/html.ts';
import { incidentListPage, incidentPage, landingPage, page } from '../pages/incident-page.ts';
import type { RoutePlugin, SchemaType } from '../route-types.ts';
import { TIMELINE_SHOWN } from '../schemas.ts';
import type { LinkSigner } from '../signed-links.ts';

export interface PageRoutesOptions {
  store: IncidentStore;
  clock: Clock;
  /** Recent points of each series, for the charts; without it pages have no charts. */
  history?: SeriesHistory | undefined;
  /** Signs and checks the short-lived links Slack messages carry. */
  signer: LinkSigner;
}

/** Silences listed on an incident's page at most (the earliest created). */
const SILENCES_SHOWN = 100;
const FAVICON =
  '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><circle cx="8" cy="8" r="7" fill="#1264a3"/><path d="M5 8.5l2 2 4-5" stroke="#fff" stroke-width="2" fill="none"/></svg>';

const ID = { type: 'string', minLength: 1, maxLength: 128 } as const;
const SIGNED = {
  type: 'object',
  properties: { exp: { type: 'string', maxLength: 16 }, sig: { type: 'string', maxLength: 64 } },
} as const;

/**
 * Server-rendered pages for people: `/` (links), `/incidents` (the list), `/incidents/{id}` (one
 * incident: cause and impact, evidence, tasks by DAG, charts, actions, silences, timeline) and its
 * charts as PNG. An incident's page and charts open with the signed link its Slack message carries;
 * otherwise they are guarded like the API.
 */
export const pageRoutes: RoutePlugin<PageRoutesOptions> = async (app, { store, clock, history, signer }) => {
  const hide = { hide: true } as const;

  // The landing page holds links only; the rest shows incidents: `read`, or a signed link.
  app.get('/', { schema: hide, config: { access: 'open' } }, async (_request, reply) =>
    sendHtml(reply, landingPage()),
  );

  /** A signed link opens the incident it was signed for (and its charts) without a key. */
  const signedFor = (request: FastifyRequest) => {
    const { id } = request.params as { id?: string };
    const { exp, sig } = request.query as { exp?: string; sig?: string };
    return id !== undefined && signer.verify(id, exp, sig, clock.now());
  };

  // Browsers ask for an icon with every page; a missing one is an error in their console.
  app.get('/favicon.svg', { schema: hide, config: { access: 'open' } }, async (_request, reply) =>
    reply
      .header('content-type', 'image/svg+xml')
      .header('cache-control', 'public, max-age=86400')
      .send(FAVICON),
  );
  app.get('/favicon.ico', { schema: hide, config: { access: 'open' } }, async (_request, reply) =>
    reply.redirect('/favicon.svg', 301),
  );

  // The pages' font, shipped with Guardian, so a page reads the same on every machine.
  const fonts = { 'dejavu-sans.ttf': FONTS[0], 'dejavu-sans-bold.ttf': FONTS[1] } as const;
  const fontBytes = new Map<string, Buffer>();
  app.get(
    '/assets/:name',
    {
      schema: {
        ...hide,
        params: {
          type: 'object',
          required: ['name'],
          properties: { name: { type: 'string', maxLength: 64 } },
        },
      },
      config: { access: 'open' },
    },
    async (request, reply) => {
      const file = fonts[request.params.name as keyof typeof fonts];
      if (!file) return notFound(reply, request.params.name);
      let bytes = fontBytes.get(file);
      if (!bytes) {
        bytes = await readFile(file);
        fontBytes.set(file, bytes);
      }
      return reply
        .header('content-type', 'font/ttf')
        .header('cache-control', 'public, max-age=86400')
        .send(bytes);
    },
  );

  app.get('/incidents', { schema: hide, config: { access: 'read' } }, async (_request, reply) => {
    const { incidents } = await store.list({ limit: 100 });
    return sendHtml(
      reply,
      incidentListPage(incidents, () => ''),
    );
  });

  app.get(
    '/incidents/:id',
    {
      config: { access: 'read', grantedBy: signedFor },
      schema: {
        ...hide,
        params: { type: 'object', required: ['id'], properties: { id: ID } },
        querystring: SIGNED,
      },
    },
    async (request, reply) => {
      const incident = await store.get(request.params.id);
      if (!incident) return notFound(reply, request.params.id);
      const now = clock.now();
      const [timeline, silences, delivery] = await Promise.all([
        store.timeline(incident.id, { newest: TIMELINE_SHOWN }),
        coveringSilences(store.silencePages(now), incident, now, SILENCES_SHOWN),
        store.getDelivery(incident.id),
      ]);
      return sendHtml(
        reply,
        incidentPage({
          incident,
          timeline,
          silences,
          charts: history ? incidentCharts(incident, history).length : 0,
          query: signedQuery(request.params.id, request.query),
          slackUrl: slackUrl(delivery),
          now,
        }),
      );
    },
  );

  app.get(
    '/incidents/:id/charts/:n.png',
    {
      config: { access: 'read', grantedBy: signedFor },
      schema: {
        ...hide,
        params: {
          type: 'object',
          required: ['id', 'n'],
          properties: { id: ID, n: { type: 'string', pattern: '^[0-9]$' } },
        },
        querystring: SIGNED,
      },
    },
    async (request, reply) => {
      const incident = await store.get(request.params.id);
      if (!incident) return notFound(reply, request.params.id);
      const chart = history ? incidentCharts(incident, history)[Number(request.params.n)] : undefined;
      if (!chart) return notFound(reply, `${request.params.id} chart ${request.params.n}`);
      return reply
        .header('content-type', 'image/png')
        .header('cache-control', 'private, max-age=60')
        .send(chartPng(chart.spec));
    },
  );

  /** Keeps the signature on links from a signed page to its own charts. */
  function signedQuery(id: string, { exp, sig }: SchemaType<typeof SIGNED>): string {
    return signer.verify(id, exp, sig, clock.now())
      ? `?exp=${encodeURIComponent(exp!)}&sig=${encodeURIComponent(sig!)}`
      : '';
  }
};

function sendHtml(reply: FastifyReply, body: string): FastifyReply {
  return reply
    .header('content-type', 'text/html; charset=utf-8')
    .header(
      'content-security-policy',
      "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; font-src 'self'",
    )
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'no-referrer')
    .send(body);
}

function notFound(reply: FastifyReply, what: string): FastifyReply {
  return sendHtml(reply.code(404), page('Not found', html`<h1>Not found</h1><p>No incident ${what}.</p>`));
}

/** The Slack channel the incident was posted to (Slack opens it; the message is its thread). */
function slackUrl(delivery: Delivery | null): string | undefined {
  const channel = delivery?.thread?.channel;
  return channel && /^[CGD][A-Z0-9]+$/.test(channel)
    ? `https://slack.com/app_redirect?channel=${channel}`
    : undefined;
}
