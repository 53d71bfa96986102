// A minimal webhook receiver verifying hookrelay's signatures.
//
//   WEBHOOK_SECRET=whsec_… npx tsx examples/receiver/main.ts
//
// WEBHOOK_SCHEME=hmac-sha256-hex (with WEBHOOK_HEADER_PREFIX, default X-Webhook) switches from
// Standard Webhooks to the `sha256=<hex>` scheme. PORT defaults to 4000 (0 picks a free one).
import { hmacSha256Hex } from 'hookrelay';
import { createReceiver } from './receiver.js';

const secret = process.env.WEBHOOK_SECRET;
if (!secret) {
  console.error('set WEBHOOK_SECRET to the secret hookrelay returned when the endpoint was created');
  process.exit(2);
}
const scheme = process.env.WEBHOOK_SCHEME === 'hmac-sha256-hex' ? hmacSha256Hex({ headerPrefix: process.env.WEBHOOK_HEADER_PREFIX ?? 'X-Webhook' }) : undefined;

const server = createReceiver({
  secret,
  ...(scheme ? { scheme } : {}),
  onEvent(event) {
    console.log(`received ${event.id} ${event.type} ${JSON.stringify(event.data)}`);
  },
  onRejected({ code, message }) {
    console.log(`rejected ${code}: ${message}`);
  },
});

server.listen(Number(process.env.PORT ?? 4000), '127.0.0.1', () => {
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  console.log(`listening on http://127.0.0.1:${port}`);
});

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => server.close(() => process.exit(0)));
}
