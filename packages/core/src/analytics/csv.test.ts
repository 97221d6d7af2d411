import { parse } from 'csv-parse/sync';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TallyError } from '../errors/index.js';
import { tallyRejection } from '../testing/rejection.js';
import { parseCredits } from '../units/credits.js';
import { parseDecimal } from '../units/decimal.js';
import { parseMoney } from '../units/money.js';
import { csvStream, reportTableCsv } from './csv.js';
import type { ReportColumn, ReportRow, ReportTable } from './report.js';

async function readAll(stream: ReadableStream<Uint8Array>): Promise<string> {
  const decoder = new TextDecoder('utf-8', { ignoreBOM: true });
  let text = '';
  for await (const chunk of stream) text += decoder.decode(chunk, { stream: true });
  return text + decoder.decode();
}

const COLUMNS: ReportColumn[] = [
  { key: 'name', label: 'Customer', kind: 'text' },
  { key: 'calls', label: 'Calls', kind: 'integer' },
  { key: 'credits', label: 'Credits used', kind: 'credits' },
  { key: 'revenue', label: 'Revenue, USD', kind: 'money' },
  { key: 'share', label: 'Share %', kind: 'percent_bps' },
  { key: 'at', label: '@at', kind: 'date' },
];

const row = (values: Partial<Record<string, ReportRow[string]>>): ReportRow => ({
  name: null,
  calls: null,
  credits: null,
  revenue: null,
  share: null,
  at: null,
  ...values,
});

describe('reportTableCsv', () => {
  it('writes RFC 4180 with exact machine-readable values and inert formulas (golden)', async () => {
    const table: ReportTable = {
      title: 'Top customers',
      columns: COLUMNS,
      rows: [
        row({ name: 'Acme, Inc.', calls: 1200n, credits: 74_250_000n, revenue: 4900n, share: 1250, at: new Date('2026-03-01T00:00:00Z') }),
        row({ name: 'Say "hi"', calls: -5, credits: -1n, revenue: -1n, share: -5n }),
        row({ name: '=HYPERLINK("http://x.test","y")', calls: 2n ** 70n, credits: 0n, revenue: 0n, share: 0 }),
        row({ name: '+1', credits: 123_456_789_012_345_678_901_234_567_890n, revenue: 100_000_000_000_000_000_001n }),
        row({ name: '-2' }),
        row({ name: '@SUM(A1)' }),
        row({ name: '\tTabbed' }),
        row({ name: '\rReturn' }),
        row({ name: 'line 1\nline 2' }),
        row({ name: 'Zoë 🚀 日本' }),
        row({ name: '' }),
        row({ name: "it's -fine- = ok" }),
      ],
    };
    const expected = [
      'Customer,Calls,Credits used,"Revenue, USD",Share %,\'@at',
      '"Acme, Inc.",1200,74.25,49.00,12.5,2026-03-01T00:00:00.000Z',
      '"Say ""hi""",-5,-0.000001,-0.01,-0.05,',
      '"\'=HYPERLINK(""http://x.test"",""y"")",1180591620717411303424,0.00,0.00,0,',
      "'+1,,123456789012345678901234.56789,1000000000000000000.01,,",
      "'-2,,,,,",
      "'@SUM(A1),,,,,",
      "'\tTabbed,,,,,",
      '"\'\rReturn",,,,,',
      '"line 1\nline 2",,,,,',
      'Zoë 🚀 日本,,,,,',
      ',,,,,',
      "it's -fine- = ok,,,,,",
      '',
    ].join('\r\n');
    expect(await readAll(reportTableCsv(table, { currency: 'USD' }))).toBe(expected);
  });

  it('writes money in the currency’s own minor unit', async () => {
    const columns: ReportColumn[] = [{ key: 'amount', label: 'Amount', kind: 'money' }];
    const rows = [{ amount: 5000n }, { amount: -7n }];
    expect(await readAll(reportTableCsv({ title: 'x', columns, rows }, { currency: 'JPY' }))).toBe('Amount\r\n5000\r\n-7\r\n');
    expect(await readAll(reportTableCsv({ title: 'x', columns, rows }, { currency: 'kwd' }))).toBe('Amount\r\n5.000\r\n-0.007\r\n');
  });

  it('starts with a byte order mark only when asked', async () => {
    const table: ReportTable = { title: 't', columns: [{ key: 'a', label: 'A', kind: 'text' }], rows: [{ a: 'x' }] };
    const bytes = async (stream: ReadableStream<Uint8Array>) => new Uint8Array(await new Response(stream).arrayBuffer());
    expect([...(await bytes(reportTableCsv(table, { bom: true })))]).toEqual([0xef, 0xbb, 0xbf, 0x41, 0x0d, 0x0a, 0x78, 0x0d, 0x0a]);
    expect([...(await bytes(reportTableCsv(table)))]).toEqual([0x41, 0x0d, 0x0a, 0x78, 0x0d, 0x0a]);
  });

  it('quotes an empty cell of a one-column table, so the line is not blank', async () => {
    const table: ReportTable = {
      title: 't',
      columns: [{ key: 'a', label: 'A', kind: 'text' }],
      rows: [{ a: '' }, { a: null }, { a: 'b' }],
    };
    const text = await readAll(reportTableCsv(table));
    expect(text).toBe('A\r\n""\r\n""\r\nb\r\n');
    expect(parse(text)).toEqual([['A'], [''], [''], ['b']]);
  });

  it('refuses a bad table before writing anything', () => {
    const base: ReportTable = { title: 't', columns: COLUMNS, rows: [row({ name: 'a' })] };
    const cases: Array<[ReportTable, unknown[]]> = [
      [{ ...base, rows: [row({ credits: 1.5 })] }, [0, 'credits']],
      [{ ...base, rows: [row({ calls: 2.5 })] }, [0, 'calls']],
      [{ ...base, rows: [{ ...row({}), extra: 'x' }] }, [0, 'extra']],
      [{ ...base, rows: [{ name: 'no other keys' }] }, [0, 'calls']],
      [{ ...base, rows: [row({ at: new Date(Number.NaN) })] }, [0, 'at']],
    ];
    for (const [table, tail] of cases) {
      const error = (() => {
        try {
          reportTableCsv(table, { currency: 'USD' });
        } catch (caught) {
          return caught;
        }
      })();
      expect(TallyError.is(error, 'VALIDATION')).toBe(true);
      expect((error as TallyError).issues[0]?.path).toEqual(['rows', ...tail]);
    }
    expect(() => reportTableCsv(base)).toThrowError(
      expect.objectContaining({ code: 'VALIDATION', message: expect.stringMatching(/currency/) }),
    );
    expect(() => reportTableCsv(base, { currency: 'dollars' })).toThrowError(expect.objectContaining({ code: 'VALIDATION' }));
  });
});

// Text that trips CSV writers and spreadsheets: separators, quotes, line breaks, formula starts, non-ASCII.
const trickyText = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 12 }),
  fc.string({ unit: fc.constantFrom(',', '"', '\r', '\n', '=', '+', '-', '@', '\t', "'", ' ', 'a', 'é', '🚀', '日'), maxLength: 12 }),
  fc.constantFrom('=1+1', '+SUM(A1)', '-2+3', '@cmd', '\t=x', '\r=x', '=HYPERLINK("http://evil.test","x")'),
);
const amount = fc.bigInt({ min: -(10n ** 30n), max: 10n ** 30n });

describe('CSV round trip through csv-parse', () => {
  it('gives back every text cell (made inert) and every number exactly', async () => {
    const columns: ReportColumn[] = [
      { key: 'text', label: 'Text', kind: 'text' },
      { key: 'count', label: 'Count', kind: 'integer' },
      { key: 'credits', label: 'Credits', kind: 'credits' },
      { key: 'money', label: 'Money', kind: 'money' },
      { key: 'bps', label: 'Rate', kind: 'percent_bps' },
    ];
    const rowArb = fc.record({ text: fc.option(trickyText), count: amount, credits: amount, money: amount, bps: amount });
    await fc.assert(
      fc.asyncProperty(fc.array(rowArb, { maxLength: 25 }), fc.constantFrom('USD', 'JPY', 'KWD'), async (rows, currency) => {
        const text = await readAll(csvStream(columns, rows, { currency }));
        const records: string[][] = parse(text);
        expect(records[0]).toEqual(['Text', 'Count', 'Credits', 'Money', 'Rate']);
        expect(records).toHaveLength(rows.length + 1);
        rows.forEach((source, index) => {
          const [cellText, count, credits, cash, bps] = records[index + 1] as string[];
          const written = source.text ?? '';
          expect(cellText).toBe(/^[=+\-@\t\r]/.test(written) ? `'${written}` : written);
          expect(BigInt(count as string)).toBe(source.count);
          expect(parseCredits(credits as string)).toBe(source.credits);
          expect(parseMoney(cash as string, currency).amount).toBe(source.money);
          expect(parseDecimal(bps as string, 2, { allowNegative: true })).toBe(source.bps);
        });
      }),
      { numRuns: 200 },
    );
  });
});

describe('csvStream', () => {
  const columns: ReportColumn[] = [
    { key: 'day', label: 'Day', kind: 'integer' },
    { key: 'credits', label: 'Credits', kind: 'credits' },
  ];

  it('reads a large source incrementally: the first bytes come before the source is exhausted', async () => {
    const total = 100_000;
    let produced = 0;
    let exhausted = false;
    async function* rows() {
      for (let day = 0; day < total; day++) {
        produced++;
        yield { day, credits: BigInt(day) * 1_250_000n };
      }
      exhausted = true;
    }
    const reader = csvStream(columns, rows()).getReader();
    // Nothing is pulled before someone reads.
    expect(produced).toBe(0);
    const first = await reader.read();
    expect(first.done).toBe(false);
    expect(exhausted).toBe(false);
    expect(produced).toBeGreaterThan(0);
    expect(produced).toBeLessThan(total);
    const decoder = new TextDecoder();
    let text = decoder.decode(first.value, { stream: true });
    let chunks = 1;
    for (let next = await reader.read(); !next.done; next = await reader.read()) {
      text += decoder.decode(next.value, { stream: true });
      chunks++;
    }
    expect(exhausted).toBe(true);
    expect(chunks).toBeGreaterThan(10);
    const lines = text.split('\r\n');
    expect(lines).toHaveLength(total + 2);
    expect(lines[0]).toBe('Day,Credits');
    expect(lines[total]).toBe('99999,124998.75');
    expect(lines[total + 1]).toBe('');
  });

  it('accepts a plain iterable', async () => {
    expect(await readAll(csvStream(columns, [{ day: 1, credits: 1_500_000n }]))).toBe('Day,Credits\r\n1,1.50\r\n');
  });

  it('closes the source when the consumer cancels', async () => {
    let closed = false;
    let produced = 0;
    async function* rows() {
      try {
        for (let day = 0; day < 1_000_000; day++) {
          produced++;
          yield { day, credits: 0n };
        }
      } finally {
        closed = true;
      }
    }
    const reader = csvStream(columns, rows()).getReader();
    await reader.read();
    await reader.cancel();
    expect(closed).toBe(true);
    expect(produced).toBeLessThan(1_000_000);
  });

  it('ends the stream with VALIDATION at the first bad row and closes the source', async () => {
    let closed = false;
    function* rows() {
      try {
        yield { day: 1, credits: 0n };
        yield { day: 2, credits: 0.5 as unknown as bigint };
        yield { day: 3, credits: 0n };
      } finally {
        closed = true;
      }
    }
    const error = await tallyRejection(readAll(csvStream(columns, rows())));
    expect(error.code).toBe('VALIDATION');
    expect(error.issues[0]?.path).toEqual(['rows', 1, 'credits']);
    expect(closed).toBe(true);
  });

  it('refuses bad columns and non-iterable rows at once', () => {
    const expectInvalid = (run: () => unknown) => expect(run).toThrowError(expect.objectContaining({ code: 'VALIDATION' }));
    expectInvalid(() => csvStream([], []));
    expectInvalid(() => csvStream([columns[0] as ReportColumn, columns[0] as ReportColumn], []));
    expectInvalid(() => csvStream([{ key: 'a', label: 'A', kind: 'float' as 'text' }], []));
    expectInvalid(() => csvStream(columns, 42 as unknown as ReportRow[]));
  });
});
