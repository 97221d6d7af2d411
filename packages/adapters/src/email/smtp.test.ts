import { createServer, type Server } from 'node:net';
import { type OutgoingEmail, TallyError } from '@tally/core';
import { tallyRejection } from '@tally/core/testing';
import type { ParsedMail } from 'mailparser';
import nodemailer from 'nodemailer';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { type SmtpSink, startSmtpSink } from '../test-support/smtp-sink.js';
import { createSmtpTransport, type SmtpTransport } from './smtp.js';

// A token as long as the notifier's signed ones, so the header is longer than one folded line.
const TOKEN = `v1.cus_123.low_balance.${'a1B2c3D4e5'.repeat(12)}`;
const UNSUBSCRIBE = `<https://billing.example.com/v1/unsubscribe?token=${TOKEN}>`;

function mail(overrides: Partial<OutgoingEmail> = {}): OutgoingEmail {
  return {
    from: { address: 'billing@example.com', name: 'Acme Billing' },
    to: { address: 'ada@example.org', name: 'Ada Lovelace' },
    subject: 'Your credits are running low',
    html: '<!doctype html><html><body><p>You have <strong>74.25</strong> credits left.</p></body></html>',
    text: 'You have 74.25 credits left.',
    headers: { 'List-Unsubscribe': UNSUBSCRIBE, 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' },
    dedupeKey: 'email:low_balance:cus_123:2026-11',
    ...overrides,
  };
}

/** A header exactly as it stands in the message, unfolded (RFC 5322 §2.2.3). */
function rawHeader(parsed: ParsedMail, name: string): string[] {
  return parsed.headerLines
    .filter((line) => line.key === name.toLowerCase())
    .map((line) =>
      line.line
        .replace(/\r?\n(?=[ \t])/g, '')
        .slice(name.length + 1)
        .trim(),
    );
}

let sink: SmtpSink;
const opened: SmtpTransport[] = [];

function transport(options: Partial<Parameters<typeof createSmtpTransport>[0]> = {}): SmtpTransport {
  const created = createSmtpTransport({ host: sink.host, port: sink.port, ...options } as Parameters<typeof createSmtpTransport>[0]);
  opened.push(created);
  return created;
}

beforeAll(async () => {
  sink = await startSmtpSink();
});
afterEach(async () => {
  for (const created of opened.splice(0)) await created.close();
});
afterAll(async () => {
  await sink.close();
});

describe('SMTP transport against a real SMTP server', () => {
  it('sends multipart/alternative with the subject, names, RFC 8058 headers and the dedupe header', async () => {
    const before = sink.messages().length;
    const result = await transport().send(mail({ subject: 'Crédits bientôt épuisés — 残りわずか 🔋' }));
    const received = (await sink.waitFor(before + 1))[before] as ParsedMail;

    expect(received.headers.get('content-type')).toMatchObject({ value: 'multipart/alternative' });
    expect(received.text?.trim()).toBe('You have 74.25 credits left.');
    expect(received.html).toContain('<p>You have <strong>74.25</strong> credits left.</p>');
    expect(received.subject).toBe('Crédits bientôt épuisés — 残りわずか 🔋');
    expect(received.from?.value).toEqual([{ address: 'billing@example.com', name: 'Acme Billing' }]);
    expect(received.to).toMatchObject({ value: [{ address: 'ada@example.org', name: 'Ada Lovelace' }] });
    expect(rawHeader(received, 'List-Unsubscribe')).toEqual([UNSUBSCRIBE]);
    expect(rawHeader(received, 'List-Unsubscribe-Post')).toEqual(['List-Unsubscribe=One-Click']);
    expect(rawHeader(received, 'X-Tally-Dedupe')).toEqual(['email:low_balance:cus_123:2026-11']);
    expect(result.messageId).toMatch(/^<.+@.+>$/);
    expect(result.messageId).toBe(received.messageId);
  });

  it('writes bare addresses when there are no names', async () => {
    const before = sink.messages().length;
    await transport().send(mail({ from: { address: 'billing@example.com', name: null }, to: { address: 'ada@example.org', name: null } }));
    const received = (await sink.waitFor(before + 1))[before] as ParsedMail;
    expect(received.from?.value).toEqual([{ address: 'billing@example.com', name: '' }]);
    expect(rawHeader(received, 'To')).toEqual(['ada@example.org']);
  });

  it('puts the plain-text part before the HTML part (the last part is the one clients prefer)', async () => {
    const transporter = nodemailer.createTransport({ streamTransport: true, buffer: true });
    const sendMail = vi.spyOn(transporter, 'sendMail');
    await createSmtpTransport({ transporter }).send(mail());
    const info = (await sendMail.mock.results[0]?.value) as { message: Buffer };
    const raw = info.message.toString('utf8');
    const text = raw.indexOf('Content-Type: text/plain');
    const html = raw.indexOf('Content-Type: text/html');
    expect(text).toBeGreaterThan(raw.indexOf('Content-Type: multipart/alternative'));
    expect(html).toBeGreaterThan(text);
  });

  it('sends attachments as base64 parts of multipart/mixed, byte for byte, with the text and HTML still alternatives', async () => {
    const before = sink.messages().length;
    // Every byte value, and more than one base64 line: what comes back must be these exact bytes.
    const pdf = Uint8Array.from({ length: 5000 }, (_, i) => (i * 31 + 7) % 256);
    const csv = new TextEncoder().encode('\uFEFFCustomer,Credits\r\ncus_1,1250.00\r\n');
    // A view into a larger buffer: only its own bytes may go out.
    const backing = new Uint8Array([9, 9, ...csv, 9]);
    const view = backing.subarray(2, 2 + csv.byteLength);
    await transport().send(
      mail({
        attachments: [
          { filename: 'weekly-ops-2026-11-16.pdf', contentType: 'application/pdf', content: pdf },
          { filename: 'Übersicht "März".csv', contentType: 'text/csv; charset=utf-8', content: view },
        ],
      }),
    );
    const received = (await sink.waitFor(before + 1))[before] as ParsedMail;
    expect(received.headers.get('content-type')).toMatchObject({ value: 'multipart/mixed' });
    expect(received.text?.trim()).toBe('You have 74.25 credits left.');
    expect(received.html).toContain('<strong>74.25</strong>');
    expect(received.attachments.map((a) => [a.filename, a.contentType, a.contentDisposition])).toEqual([
      ['weekly-ops-2026-11-16.pdf', 'application/pdf', 'attachment'],
      ['Übersicht "März".csv', 'text/csv', 'attachment'],
    ]);
    expect(new Uint8Array(received.attachments[0]?.content as Buffer)).toEqual(pdf);
    expect(new Uint8Array(received.attachments[1]?.content as Buffer)).toEqual(csv);
  });

  it('sends many mails over a pool and closes it', async () => {
    const before = sink.messages().length;
    const pooled = transport({ pool: true });
    await Promise.all([1, 2, 3, 4].map((n) => pooled.send(mail({ subject: `Mail ${n}`, dedupeKey: `k${n}` }))));
    const received = (await sink.waitFor(before + 4)).slice(before);
    expect(received.map((m) => m.subject).sort()).toEqual(['Mail 1', 'Mail 2', 'Mail 3', 'Mail 4']);
    await pooled.close();
  });

  it('uses a nodemailer transporter it is given, and leaves closing it to the owner', async () => {
    const before = sink.messages().length;
    const transporter = nodemailer.createTransport({ host: sink.host, port: sink.port, secure: false });
    const close = vi.spyOn(transporter, 'close');
    const smtp = createSmtpTransport({ transporter });
    await smtp.send(mail({ dedupeKey: 'given-transporter' }));
    await smtp.close();
    expect(close).not.toHaveBeenCalled();
    const received = (await sink.waitFor(before + 1))[before] as ParsedMail;
    expect(rawHeader(received, 'X-Tally-Dedupe')).toEqual(['given-transporter']);
    transporter.close();
  });
});

describe('SMTP failures', () => {
  it('451 is PROVIDER_UNAVAILABLE, and the same mail goes through on the next try', async () => {
    const before = sink.messages().length;
    const smtp = transport();
    await sink.rejectNext(1, 451);
    const error = await tallyRejection(smtp.send(mail({ dedupeKey: 'retry-me' })));
    expect(error.code).toBe('PROVIDER_UNAVAILABLE');
    expect(error.details).toMatchObject({ transport: 'smtp', responseCode: 451 });
    expect(error.message).toContain('451');

    await smtp.send(mail({ dedupeKey: 'retry-me' }));
    const received = (await sink.waitFor(before + 1)).slice(before);
    expect(received.map((m) => rawHeader(m, 'X-Tally-Dedupe')[0])).toEqual(['retry-me']);
  });

  it('550 is PROVIDER_REJECTED', async () => {
    const before = sink.messages().length;
    await sink.rejectNext(1, 550);
    const error = await tallyRejection(transport().send(mail()));
    expect(error.code).toBe('PROVIDER_REJECTED');
    expect(error.details).toMatchObject({ transport: 'smtp', responseCode: 550 });
    expect(sink.messages()).toHaveLength(before);
  });

  it('a server that is down (closed port) is PROVIDER_UNAVAILABLE', async () => {
    const gone = await startSmtpSink();
    const port = gone.port;
    await gone.close();
    const smtp = createSmtpTransport({ host: '127.0.0.1', port, connectionTimeoutMs: 5_000 });
    const error = await tallyRejection(smtp.send(mail()));
    await smtp.close();
    expect(error.code).toBe('PROVIDER_UNAVAILABLE');
    expect(error.details).toMatchObject({ transport: 'smtp', responseCode: null, networkCode: 'ECONNREFUSED' });
  });

  it('a server that never greets is PROVIDER_UNAVAILABLE after greetingTimeoutMs', async () => {
    const silent: Server = createServer(() => {});
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const address = silent.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    const smtp = createSmtpTransport({ host: '127.0.0.1', port, greetingTimeoutMs: 200 });
    const error = await tallyRejection(smtp.send(mail()));
    await smtp.close();
    silent.close();
    expect(error.code).toBe('PROVIDER_UNAVAILABLE');
    expect(error.details).toMatchObject({ transport: 'smtp', smtpCode: 'ETIMEDOUT' });
  });

  it('requireTLS sends nothing in the clear to a server without STARTTLS', async () => {
    const before = sink.messages().length;
    const error = await tallyRejection(transport({ requireTLS: true }).send(mail()));
    // The server answers STARTTLS with 500: a permanent refusal, retrying cannot help.
    expect(error.code).toBe('PROVIDER_REJECTED');
    expect(error.details).toMatchObject({ transport: 'smtp', smtpCode: 'ETLS', command: 'STARTTLS', responseCode: 500 });
    await transport().send(mail({ dedupeKey: 'in-the-clear-on-purpose' }));
    const received = (await sink.waitFor(before + 1)).slice(before);
    expect(received.map((m) => rawHeader(m, 'X-Tally-Dedupe')[0])).toEqual(['in-the-clear-on-purpose']);
  });

  it('refuses a bad mail with VALIDATION and sends nothing', async () => {
    const before = sink.messages().length;
    const smtp = transport();
    const bad: Array<[Partial<OutgoingEmail>, string]> = [
      [{ headers: { 'List-Unsubscribe': '<https://x.example>\r\nBcc: victim@example.com' } }, 'headers.List-Unsubscribe'],
      [{ headers: { Subject: 'Other' } }, 'headers.Subject'],
      [{ headers: { 'X-Tally-Dedupe': 'mine' } }, 'headers.X-Tally-Dedupe'],
      [{ headers: { 'x-a': '1', 'X-A': '2' } }, 'headers.X-A'],
      [{ headers: { 'Bad Name': '1' } }, 'headers.Bad Name'],
      [{ subject: 'Hi\nBcc: victim@example.com' }, 'subject'],
      [{ subject: '  ' }, 'subject'],
      [{ to: { address: 'not an address', name: null } }, 'to.address'],
      [{ from: { address: 'billing@example.com', name: 'Acme\r\nBcc: x@example.com' } }, 'from.name'],
      [{ html: '' }, 'html'],
      [{ dedupeKey: '' }, 'dedupeKey'],
      [{ attachments: 'report.pdf' as never }, 'attachments'],
      [{ attachments: [{ filename: '../etc/passwd', contentType: 'text/plain', content: new Uint8Array(1) }] }, 'attachments[0].filename'],
      [
        { attachments: [{ filename: 'a\r\nb.pdf', contentType: 'application/pdf', content: new Uint8Array(1) }] },
        'attachments[0].filename',
      ],
      [
        { attachments: [{ filename: 'a.pdf', contentType: 'application/pdf\r\nBcc: x@example.com', content: new Uint8Array(1) }] },
        'attachments[0].contentType',
      ],
      [{ attachments: [{ filename: 'a.pdf', contentType: 'pdf', content: new Uint8Array(1) }] }, 'attachments[0].contentType'],
      [{ attachments: [{ filename: 'a.pdf', contentType: 'application/pdf', content: '%PDF' as never }] }, 'attachments[0].content'],
    ];
    for (const [overrides, field] of bad) {
      const error = await tallyRejection(smtp.send(mail(overrides)));
      expect(error.code, field).toBe('VALIDATION');
      expect(error.details.field).toBe(field);
    }
    await smtp.send(mail({ dedupeKey: 'the-good-one' }));
    const received = (await sink.waitFor(before + 1)).slice(before);
    expect(received.map((m) => rawHeader(m, 'X-Tally-Dedupe')[0])).toEqual(['the-good-one']);
  });
});

describe('SMTP options', () => {
  it('refuses bad options with VALIDATION at creation', () => {
    const bad: Array<[unknown, string]> = [
      [{ host: '', port: 25 }, 'host'],
      [{ host: 'smtp example.com', port: 25 }, 'host'],
      [{ host: 'smtp.example.com/x', port: 25 }, 'host'],
      [{ host: 'smtp.example.com', port: 0 }, 'port'],
      [{ host: 'smtp.example.com', port: 65_536 }, 'port'],
      [{ host: 'smtp.example.com', port: 587.5 }, 'port'],
      [{ host: 'smtp.example.com', port: '587' }, 'port'],
      [{ host: 'smtp.example.com', port: 587, secure: 'yes' }, 'secure'],
      [{ host: 'smtp.example.com', port: 587, greetingTimeoutMs: 0 }, 'greetingTimeoutMs'],
      [{ host: 'smtp.example.com', port: 587, socketTimeoutMs: -1 }, 'socketTimeoutMs'],
      [{ host: 'smtp.example.com', port: 587, auth: { user: 'u', pass: '' } }, 'auth'],
      [{ transporter: {} }, 'transporter'],
      [null, 'options'],
    ];
    for (const [options, field] of bad) {
      let error: unknown;
      try {
        createSmtpTransport(options as Parameters<typeof createSmtpTransport>[0]);
      } catch (caught) {
        error = caught;
      }
      expect(TallyError.is(error, 'VALIDATION'), field).toBe(true);
      expect((error as TallyError).details.field).toBe(field);
    }
  });

  it('accepts host names, IPv4 and IPv6 addresses', async () => {
    for (const host of ['smtp.office365.com', 'localhost', '10.0.0.25', '::1']) {
      const smtp = createSmtpTransport({ host, port: 587 });
      expect(smtp.name).toBe('smtp');
      await smtp.close();
    }
  });
});
