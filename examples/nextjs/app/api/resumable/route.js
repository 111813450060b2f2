// POST /api/resumable { id, messages }: starts a resumable answer for chat `id`. It keeps
// generating when the browser leaves (a reload, a network change); the GET route next to it
// sends the rest. A second POST for an id whose answer is still in flight gets 409.

import { stream } from 'llm-relay';
import { store } from '../../../lib/resume-store.js';

export const runtime = 'nodejs';
export const dynamic = 'force-dynamic';

export async function POST(req) {
  const { id, messages } = await req.json().catch(() => ({}));
  if (typeof id !== 'string' || !Array.isArray(messages)) {
    return Response.json({ error: 'Expected { id, messages }' }, { status: 400 });
  }
  const s = stream({
    provider: 'openai',
    baseURL: process.env.OPENAI_BASE_URL || undefined,
    body: { model: process.env.OPENAI_MODEL || 'gpt-4o-mini', messages: messages.slice(-40) },
  });
  // A Promise<Response>: the claim decides between 200 and 409. No `signal`: leaving does not stop it.
  return s.toResponse({ resume: { store, id, abandonAfterMs: 10 * 60_000 } });
}
