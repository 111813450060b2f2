import { stream } from 'llm-relay';

export const runtime = 'nodejs';
export const dynamic = 'force-dynamic';

// useChat sends UI messages ({ role, parts: [{ type: 'text', text }] }); the
// provider wants chat messages. The answer goes back as the UI message stream.
export async function POST(req) {
  const { messages } = await req.json();
  const chat = messages.map((m) => ({
    role: m.role,
    content: m.parts
      .filter((p) => p.type === 'text')
      .map((p) => p.text)
      .join(''),
  }));
  return stream({
    provider: 'openai',
    baseURL: process.env.OPENAI_BASE_URL,
    apiKey: process.env.OPENAI_API_KEY,
    body: { model: 'gpt-4o-mini', messages: chat },
  }).toResponse({ format: 'ui-message', signal: req.signal });
}
