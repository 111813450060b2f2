// Streams an OpenAI-format answer to the terminal: from OpenAI when
// OPENAI_API_KEY is set, otherwise from the built-in mock provider.
//   node examples/basic/stream.js "Why is the sky blue?"
const { stream } = require('llm-relay');
const { startMockProvider } = require('llm-relay/testing');

async function main(question) {
  const mock = process.env.OPENAI_API_KEY
    ? null
    : await startMockProvider({
        script: { tokens: `You asked: ${question} Here is a streamed answer, token by token.`, delayMs: 40 },
      });
  const s = stream({
    provider: 'openai',
    ...(mock && { baseURL: mock.baseURL('openai'), apiKey: 'mock' }),
    body: { model: 'gpt-4o-mini', messages: [{ role: 'user', content: question }] },
  });
  for await (const d of s) if (d.type === 'text') process.stdout.write(d.text);
  const { usage, metrics } = await s.done;
  console.log(`\n\n${usage?.outputTokens} tokens, first after ${metrics.ttftMs} ms`);
  await mock?.close();
}

main(process.argv[2] || 'Why is the sky blue?');
