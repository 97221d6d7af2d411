/**
 * A real SMTP server for tests, in a child process (smtp-sink-process.ts): what a transport sends
 * crosses a real socket and a real SMTP dialogue, and comes back here parsed by mailparser. Not part
 * of the published entry points.
 *
 * ```ts
 * const sink = await startSmtpSink();
 * const transport = createSmtpTransport({ host: sink.host, port: sink.port });
 * await transport.send(mail);
 * const [received] = await sink.waitFor(1);
 * await sink.close();
 * ```
 */
import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { type ParsedMail, simpleParser } from 'mailparser';

export interface SmtpSinkOptions {
  /** How long the child may take to start listening. Default 20 s. */
  startupTimeoutMs?: number;
}

export interface SmtpSink {
  readonly port: number;
  readonly host: string;
  /** Every mail accepted so far, parsed, in the order the server took them. */
  messages(): ParsedMail[];
  /** Resolves with all mails once at least `count` arrived; rejects after `timeoutMs` (default 10 s). */
  waitFor(count: number, timeoutMs?: number): Promise<ParsedMail[]>;
  /** The server refuses the next `count` mails at the end of DATA with `code` (default 451). */
  rejectNext(count: number, code?: 451 | 550): Promise<void>;
  /** Stops the server and its process. */
  close(): Promise<void>;
}

type FromChild = { type: 'listening'; port: number } | { type: 'message'; raw: string } | { type: 'rejecting'; count: number };

interface Waiter {
  count: number;
  resolve: (messages: ParsedMail[]) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

const HOST = '127.0.0.1';
const SCRIPT = fileURLToPath(new URL('./smtp-sink-process.ts', import.meta.url));

export async function startSmtpSink(options: SmtpSinkOptions = {}): Promise<SmtpSink> {
  const child: ChildProcess = fork(SCRIPT, [], {
    execPath: process.execPath,
    // Not the test runner's flags: the child is a plain Node process.
    execArgv: ['--disable-warning=ExperimentalWarning'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const received: ParsedMail[] = [];
  const waiters = new Set<Waiter>();
  const acks: Array<() => void> = [];
  let parsing = Promise.resolve();
  let exited: Error | null = null;
  const exit = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      exited = new Error(`the SMTP sink process exited (${signal ?? code})`);
      for (const waiter of waiters) {
        clearTimeout(waiter.timer);
        waiter.reject(exited);
      }
      waiters.clear();
      resolve();
    });
  });

  function settle(): void {
    for (const waiter of waiters) {
      if (received.length < waiter.count) continue;
      clearTimeout(waiter.timer);
      waiters.delete(waiter);
      waiter.resolve([...received]);
    }
  }

  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill();
      reject(new Error('the SMTP sink did not start listening in time'));
    }, options.startupTimeoutMs ?? 20_000);
    child.on('message', (message: FromChild) => {
      if (message.type === 'listening') {
        clearTimeout(timer);
        resolve(message.port);
      } else if (message.type === 'message') {
        // One after another, so `messages()` keeps the order the server accepted them in.
        parsing = parsing.then(async () => {
          received.push(await simpleParser(Buffer.from(message.raw, 'base64')));
          settle();
        });
      } else if (message.type === 'rejecting') {
        acks.shift()?.();
      }
    });
    child.once('exit', () => {
      clearTimeout(timer);
      reject(new Error('the SMTP sink process exited before it listened'));
    });
  });

  return {
    port,
    host: HOST,
    messages: () => [...received],
    waitFor(count, timeoutMs = 10_000) {
      if (received.length >= count) return Promise.resolve([...received]);
      if (exited) return Promise.reject(exited);
      return new Promise<ParsedMail[]>((resolve, reject) => {
        const waiter: Waiter = {
          count,
          resolve,
          reject,
          timer: setTimeout(() => {
            waiters.delete(waiter);
            reject(new Error(`the SMTP sink got ${received.length} of ${count} mails in time`));
          }, timeoutMs),
        };
        waiters.add(waiter);
      });
    },
    rejectNext(count, code = 451) {
      if (!Number.isInteger(count) || count < 0) return Promise.reject(new RangeError('count must be a whole number ≥ 0'));
      if (exited) return Promise.reject(exited);
      return new Promise<void>((resolve) => {
        acks.push(resolve);
        child.send({ type: 'reject', count, code });
      });
    },
    async close() {
      if (exited) return;
      const force = setTimeout(() => child.kill(), 5_000);
      child.send({ type: 'close' });
      await exit;
      clearTimeout(force);
      await parsing;
    },
  };
}
