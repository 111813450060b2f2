'use client';

// useStreamChat: a chat hook on top of llm-relay/client's readStream, for the default `sse` format
// that `stream(...).toResponse()` and `.pipe(res)` send.
//
//   const { messages, send, abort, tokens, status, error } = useStreamChat({ api: '/api/chat' });
//
// status: 'idle' | 'streaming' | 'done' | 'stopped' | 'error'. abort() (or unmounting) aborts the
// fetch; the server sees the disconnect and aborts the provider request.

import { useCallback, useEffect, useRef, useState } from 'react';
import { readStream } from 'llm-relay/client';

export function useStreamChat({ api = '/api/chat', headers } = {}) {
  const [messages, setMessages] = useState([]);
  const [status, setStatus] = useState('idle');
  const [tokens, setTokens] = useState(0);
  const [error, setError] = useState(undefined);
  // The conversation as sent next time; a ref so send() never reads a stale render's state.
  const history = useRef([]);
  const controller = useRef(undefined);

  const send = useCallback(
    async (text) => {
      if (controller.current || typeof text !== 'string' || text.trim() === '') return;
      const sent = [...history.current, { role: 'user', content: text }];
      history.current = sent;
      const ac = new AbortController();
      controller.current = ac;
      setMessages([...sent, { role: 'assistant', content: '' }]);
      setTokens(0);
      setError(undefined);
      setStatus('streaming');

      let answer = '';
      try {
        const response = fetch(api, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...headers },
          body: JSON.stringify({ messages: sent }),
          signal: ac.signal,
        });
        // readStream throws a RelayError for a non-2xx status, an `event: error` from the server
        // (code TIMEOUT_IDLE, PROVIDER_ERROR, …), a cut-off stream, or an abort.
        for await (const delta of readStream(response, { signal: ac.signal })) {
          if (delta.type !== 'text') continue;
          answer += delta.text;
          const content = answer;
          setTokens((n) => n + 1);
          setMessages([...sent, { role: 'assistant', content }]);
        }
        setStatus('done');
      } catch (err) {
        if (ac.signal.aborted) {
          setStatus('stopped');
        } else {
          setError(err);
          setStatus('error');
        }
      } finally {
        controller.current = undefined;
        // Keep a partial answer (stopped or failed midway) so the conversation stays coherent.
        if (answer !== '') history.current = [...sent, { role: 'assistant', content: answer }];
        else setMessages(sent);
      }
    },
    [api, headers],
  );

  const abort = useCallback(() => {
    if (controller.current) controller.current.abort();
  }, []);

  // Leaving the page mid-answer stops the provider request too.
  useEffect(() => () => controller.current && controller.current.abort(), []);

  return { messages, send, abort, tokens, status, error };
}
