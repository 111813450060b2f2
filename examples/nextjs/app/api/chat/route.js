// POST /api/chat: relays the model's answer to the browser as it streams.
//
// The request goes out from the native engine at once; toResponse() returns a streaming Response
// in the default `sse` format (what useStream from llm-relay/react reads), with heartbeats, in-band errors, and the
// provider request aborted when the browser leaves (req.signal aborts, or Next cancels the body).

import { stream } from 'llm-relay';

// The native addon needs the Node.js runtime (not the Edge runtime), and an answer is never static.
export const runtime = 'nodejs';
export const dynamic = 'force-dynamic';

export async function POST(req) {
  let messages;
  try {
    ({ messages } = await req.json());
  } catch {
    messages = undefined;
  }
  if (!Array.isArray(messages) || messages.length === 0 || !messages.every(isChatMessage)) {
    return Response.json(
      { error: 'Expected { messages: [{ role: "user" | "assistant", content: string }, …] }' },
      { status: 400 },
    );
  }
  return stream({
    provider: 'openai',
    // OPENAI_BASE_URL: any OpenAI-compatible server (a local mock in tests); unset → api.openai.com.
    // The key comes from OPENAI_API_KEY.
    baseURL: process.env.OPENAI_BASE_URL || undefined,
    body: { model: process.env.OPENAI_MODEL || 'gpt-4o-mini', messages: messages.slice(-40) },
  }).toResponse({ signal: req.signal });
}

function isChatMessage(m) {
  return (
    m !== null &&
    typeof m === 'object' &&
    (m.role === 'user' || m.role === 'assistant') &&
    typeof m.content === 'string'
  );
}
