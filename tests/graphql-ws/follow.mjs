#!/usr/bin/env node
// Follows pyck-server's live events with the graphql-ws reference client
// (the graphql-transport-ws protocol), as a third-party subscriber would.
//
// Usage: node follow.mjs <ws-url> <bearer-token>
//   e.g. node follow.mjs ws://127.0.0.1:7415/graphql/ws "$TOKEN"
//
// The token goes in connection_init (as a browser must send it). The client
// reconnects on its own when the connection is lost and subscribes again.
//
// Output (stdout), one JSON object per line:
//   {"connected":true}                    each time the server acknowledged
//   {"closed":CODE,"reason":"…"}          each time the socket closed
//   {"event":{…}}                         each live event
//   {"error":…}                           the subscription failed (then exit 1)
// Stdin closing ends it (exit 0), so the driving test never leaves it behind.

import { createClient } from 'graphql-ws';
import WebSocket from 'ws';

const [url, token] = process.argv.slice(2);
if (!url || !token) {
  console.error('usage: node follow.mjs <ws-url> <bearer-token>');
  process.exit(2);
}

const line = (value) => process.stdout.write(JSON.stringify(value) + '\n');

const client = createClient({
  url,
  webSocketImpl: WebSocket,
  connectionParams: { authorization: `Bearer ${token}` },
  // Connect at once and stay connected, so a restart is seen as one.
  lazy: false,
  retryAttempts: Infinity,
  // A lost server (1001 on its stop, 1006 when killed) is worth retrying;
  // the test restarts it within seconds.
  shouldRetry: () => true,
  // Short waits keep the test quick; pyck's own terminal uses full jitter.
  retryWait: () => new Promise((resolve) => setTimeout(resolve, 200)),
  on: {
    connected: () => line({ connected: true }),
    closed: (event) => line({ closed: event?.code ?? null, reason: event?.reason ?? '' }),
  },
});

client.subscribe(
  { query: 'subscription { events { type event } }' },
  {
    next: (result) => {
      if (result.errors) {
        line({ error: result.errors });
        process.exit(1);
      }
      line({ event: result.data.events.event });
    },
    error: (error) => {
      line({ error: String(error?.message ?? error?.reason ?? error) });
      process.exit(1);
    },
    complete: () => {
      line({ error: 'the subscription completed' });
      process.exit(1);
    },
  },
);

process.stdin.resume();
process.stdin.on('end', async () => {
  await client.dispose();
  process.exit(0);
});
