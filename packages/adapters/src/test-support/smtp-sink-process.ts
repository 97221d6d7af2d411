/**
 * The SMTP server behind `startSmtpSink` (smtp-sink.ts), in its own process so the transport under
 * test talks to a real server over a real socket. Run by the parent with `process.execPath` (Node
 * strips the types); it listens on 127.0.0.1, an ephemeral port, no TLS and no auth, and talks to the
 * parent over IPC:
 *
 * - to the parent: `{ type: 'listening', port }` once, then `{ type: 'message', raw }` (base64) for
 *   each accepted mail, `{ type: 'rejecting', count }` to confirm a `reject` order;
 * - from the parent: `{ type: 'reject', count, code }` (refuse the next `count` mails at the end of
 *   DATA with `code`), `{ type: 'close' }`.
 */
import { SMTPServer } from 'smtp-server';

type Order = { type: 'reject'; count: number; code: number } | { type: 'close' };

const send = (message: unknown) => process.send?.(message);
let rejections: { count: number; code: number } = { count: 0, code: 451 };

const server = new SMTPServer({
  disabledCommands: ['STARTTLS'],
  authOptional: true,
  logger: false,
  // Open client connections (a pooled transport) get 421 after this long instead of holding up close().
  closeTimeout: 1_000,
  onData(stream, _session, callback) {
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('error', (error) => callback(error));
    stream.on('end', () => {
      if (rejections.count > 0) {
        rejections.count--;
        const temporary = rejections.code >= 400 && rejections.code < 500;
        const error = Object.assign(
          new Error(temporary ? 'Try again later (sink told to refuse)' : 'Mailbox unavailable (sink told to refuse)'),
          {
            responseCode: rejections.code,
          },
        );
        callback(error);
        return;
      }
      send({ type: 'message', raw: Buffer.concat(chunks).toString('base64') });
      callback(null);
    });
  },
});

function shutdown(): void {
  server.close(() => process.exit(0));
}

process.on('message', (order: Order) => {
  if (order.type === 'reject') {
    rejections = { count: order.count, code: order.code };
    send({ type: 'rejecting', count: order.count });
  } else if (order.type === 'close') {
    shutdown();
  }
});
// The parent went away without closing us: do not outlive it.
process.on('disconnect', shutdown);

server.on('error', (error) => {
  process.stderr.write(`smtp sink: ${error.message}\n`);
  process.exit(1);
});
server.listen(0, '127.0.0.1', () => {
  const address = server.server.address();
  send({ type: 'listening', port: typeof address === 'object' && address !== null ? address.port : 0 });
});
