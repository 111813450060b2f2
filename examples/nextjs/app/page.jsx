'use client';

import { useStream } from 'llm-relay/react';
import { useState } from 'react';

const bubble = (role) => ({
  alignSelf: role === 'user' ? 'flex-end' : 'flex-start',
  maxWidth: '85%',
  padding: '9px 13px',
  borderRadius: 14,
  whiteSpace: 'pre-wrap',
  lineHeight: 1.45,
  background: role === 'user' ? '#2f6fec' : '#f0f2f5',
  color: role === 'user' ? '#fff' : 'inherit',
});

const button = (background) => ({
  font: 'inherit',
  fontWeight: 600,
  border: 0,
  borderRadius: 10,
  padding: '0 18px',
  color: '#fff',
  background,
});

/** What to tell the reader about a failed answer: the RelayError keeps the server's meaning. */
function describe(error) {
  if (error.status === 429 && error.retryAfterMs !== undefined)
    return `rate limited, retry in ${Math.ceil(error.retryAfterMs / 1000)} s`;
  return `${error.message} (${error.code})`;
}

export default function Page() {
  // The conversation before the answer on screen; that answer joins it at the next question.
  const [turns, setTurns] = useState([]);
  const [input, setInput] = useState('');
  const { text, status, error, send, stop } = useStream({ api: '/api/chat' });

  const submit = (event) => {
    event.preventDefault();
    const content = input.trim();
    if (content === '') return;
    // A stopped or interrupted answer stays in the conversation, so the model sees what it said.
    const next = [...turns, ...(text !== '' ? [{ role: 'assistant', content: text }] : []), { role: 'user', content }];
    setTurns(next);
    setInput('');
    send({ messages: next }); // aborts an answer still streaming, then asks
  };

  return (
    <main
      style={{
        maxWidth: 760,
        margin: '0 auto',
        padding: 16,
        height: '100vh',
        boxSizing: 'border-box',
        display: 'flex',
        flexDirection: 'column',
      }}
    >
      <h1 style={{ fontSize: 20 }}>llm-relay × Next.js</h1>
      <section
        style={{
          flex: 1,
          overflowY: 'auto',
          background: '#fff',
          border: '1px solid #e3e6eb',
          borderRadius: 12,
          padding: 16,
          display: 'flex',
          flexDirection: 'column',
          gap: 10,
        }}
      >
        {turns.map((m, i) => (
          <div key={i} className={`msg ${m.role}`} style={bubble(m.role)}>
            {m.content}
          </div>
        ))}
        {status !== 'idle' && (
          <div className="msg assistant live" data-status={status} style={bubble('assistant')}>
            {text}
          </div>
        )}
      </section>
      <form onSubmit={submit} style={{ display: 'flex', gap: 8, marginTop: 12 }}>
        <input
          value={input}
          onChange={(e) => setInput(e.target.value)}
          placeholder="Ask something… (asking while an answer streams interrupts it)"
          style={{ flex: 1, padding: '11px 12px', font: 'inherit', border: '1px solid #e3e6eb', borderRadius: 10 }}
        />
        <button type="submit" style={button('#2f6fec')}>
          Send
        </button>
        <button type="button" onClick={stop} disabled={status !== 'streaming'} style={button('#d64545')}>
          Stop
        </button>
      </form>
      <p
        id="status"
        style={{
          fontSize: 12,
          color: status === 'error' || status === 'stopped' ? '#d64545' : '#6b7280',
          minHeight: 18,
        }}
      >
        {status === 'streaming' && 'Streaming…'}
        {status === 'done' && 'Done.'}
        {status === 'stopped' && 'Stopped.'}
        {status === 'error' && `Error: ${describe(error)}`}
      </p>
    </main>
  );
}
