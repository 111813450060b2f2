// GET /api/resumable/:id/stream: the rest of chat `id`'s answer, after the Last-Event-ID header
// (EventSource sends it by itself; readStream's resume option too), or all of it without one.
// 404 when there is no such answer (never started, or expired).

import { store } from '../../../../../lib/resume-store.js';

export const runtime = 'nodejs';
export const dynamic = 'force-dynamic';

export async function GET(req, { params }) {
  const { id } = await params; // a Promise since Next.js 15
  return store.resume(id, { lastEventId: req.headers.get('last-event-id') }).toResponse({ signal: req.signal });
}
