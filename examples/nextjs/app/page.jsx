'use client';

import { useState } from 'react';
import { useStreamChat } from './use-stream-chat';

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

const button = (background) => ({ font: 'inherit', fontWeight: 600, border: 0, borderRadius: 10, padding: '0 18px', color: '#fff', background });

export default function Page() {
  const { messages, send, abort, tokens, status, error } = useStreamChat({ api: '/api/chat' });
  const [input, setInput] = useState('');
  const streaming = status === 'streaming';

  const submit = (event) => {
    event.preventDefault();
    if (streaming || input.trim() === '') return;
    send(input.trim());
    setInput('');
  };

  return (
    <main style={{ maxWidth: 760, margin: '0 auto', padding: 16, height: '100vh', boxSizing: 'border-box', display: 'flex', flexDirection: 'column' }}>
      <h1 style={{ fontSize: 20 }}>llm-relay × Next.js</h1>
      <section style={{ flex: 1, overflowY: 'auto', background: '#fff', border: '1px solid #e3e6eb', borderRadius: 12, padding: 16, display: 'flex', flexDirection: 'column', gap: 10 }}>
        {messages.map((m, i) => (
          <div key={i} style={bubble(m.role)}>
            {m.content}
          </div>
        ))}
      </section>
      <form onSubmit={submit} style={{ display: 'flex', gap: 8, marginTop: 12 }}>
        <input
          value={input}
          onChange={(e) => setInput(e.target.value)}
          placeholder="Ask something…"
          style={{ flex: 1, padding: '11px 12px', font: 'inherit', border: '1px solid #e3e6eb', borderRadius: 10 }}
        />
        <button type="submit" disabled={streaming} style={button('#2f6fec')}>
          Send
        </button>
        <button type="button" onClick={abort} disabled={!streaming} style={button('#d64545')}>
          Stop
        </button>
      </form>
      <p style={{ fontSize: 12, color: status === 'error' || status === 'stopped' ? '#d64545' : '#6b7280', minHeight: 18 }}>
        {status === 'streaming' && `Streaming… ${tokens} tokens`}
        {status === 'done' && `Done · ${tokens} tokens`}
        {status === 'stopped' && `Stopped after ${tokens} tokens.`}
        {status === 'error' && `Error: ${error.message}`}
      </p>
    </main>
  );
}
