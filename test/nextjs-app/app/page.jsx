'use client';

import { useChat } from '@ai-sdk/react';
import { useState } from 'react';

// useChat's default transport POSTs to /api/chat and reads the AI SDK UI
// message stream, which the route handler's toResponse({ format: 'ui-message' })
// writes.
export default function Page() {
  const { messages, sendMessage, status, stop, error } = useChat();
  const [input, setInput] = useState('');
  const busy = status === 'submitted' || status === 'streaming';
  return (
    <main>
      <ul id="messages">
        {messages.map((m) => (
          <li key={m.id} data-role={m.role}>
            {m.parts.map((part, i) => (part.type === 'text' ? <span key={i}>{part.text}</span> : null))}
          </li>
        ))}
      </ul>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          sendMessage({ text: input });
          setInput('');
        }}
      >
        <input id="prompt" value={input} onChange={(e) => setInput(e.target.value)} />
        <button id="send" type="submit" disabled={busy}>
          Send
        </button>
        <button id="stop" type="button" onClick={() => stop()} disabled={!busy}>
          Stop
        </button>
      </form>
      <p id="status">{status}</p>
      {error ? <p id="error">{String(error.message || error)}</p> : null}
    </main>
  );
}
