/** The environment the dashboard reads: defaults, each switch, and a clear refusal for each bad value. */
import { TallyError } from '@tally/core';
import { describe, expect, it } from 'vitest';
import { configFromEnv, DEFAULT_DATA_DIR } from './config.ts';

const CWD = '/srv/app';

function refusal(env: Record<string, string>): TallyError {
  try {
    configFromEnv(env, CWD);
  } catch (error) {
    if (TallyError.is(error, 'VALIDATION')) return error;
    throw error;
  }
  throw new Error(`${JSON.stringify(env)} was accepted`);
}

describe('configFromEnv', () => {
  it('runs on PGlite in examples/dashboard/.data on port 3000 with the sandbox and the mock model by default', () => {
    const options = configFromEnv({}, CWD);
    expect(options).toEqual({ port: 3000, dataDir: DEFAULT_DATA_DIR, hostname: '127.0.0.1' });
    expect(DEFAULT_DATA_DIR).toMatch(/examples\/dashboard\/\.data$/);
  });

  it('reads every switch', () => {
    const options = configFromEnv(
      {
        PORT: '0',
        HOST: '0.0.0.0',
        DATA_DIR: 'demo-data',
        DATABASE_URL: 'postgres://tally@db.internal:5432/tally',
        PUBLIC_URL: 'https://demo.example.com',
        STRIPE_SECRET_KEY: 'sk_test_123',
        STRIPE_WEBHOOK_SECRET: 'whsec_123',
        STRIPE_PRICES: 'trial=price_t, starter=price_s,professional=price_p,enterprise=price_e',
        STRIPE_PACK_PRICES: 'credits-10=price_10',
        OPENROUTER_API_KEY: 'sk-or-v1-abc',
      },
      CWD,
    );
    expect(options).toEqual({
      port: 0,
      hostname: '0.0.0.0',
      dataDir: '/srv/app/demo-data',
      databaseUrl: 'postgres://tally@db.internal:5432/tally',
      publicUrl: 'https://demo.example.com',
      stripe: {
        secretKey: 'sk_test_123',
        webhookSecret: 'whsec_123',
        prices: { trial: 'price_t', starter: 'price_s', professional: 'price_p', enterprise: 'price_e' },
        packs: { 'credits-10': 'price_10' },
      },
      openRouter: { apiKey: 'sk-or-v1-abc' },
    });
    expect(configFromEnv({ DATA_DIR: '/var/lib/tally' }, CWD).dataDir).toBe('/var/lib/tally');
  });

  it('refuses a bad value and names the variable', () => {
    const stripe = { STRIPE_SECRET_KEY: 'sk_test_123', STRIPE_WEBHOOK_SECRET: 'whsec_1' };
    const cases: Array<[Record<string, string>, string]> = [
      [{ PORT: 'eighty' }, 'PORT'],
      [{ PORT: '70000' }, 'PORT'],
      [{ DATABASE_URL: 'mysql://x@y/z' }, 'DATABASE_URL'],
      [{ PUBLIC_URL: 'ftp://example.com' }, 'PUBLIC_URL'],
      [{ STRIPE_SECRET_KEY: 'sk_test_123' }, 'STRIPE_WEBHOOK_SECRET'],
      [stripe, 'STRIPE_PRICES'],
      [{ ...stripe, STRIPE_PRICES: 'starter=price_s' }, 'STRIPE_PRICES'],
      [{ ...stripe, STRIPE_PRICES: 'gold=price_g' }, 'STRIPE_PRICES'],
      [{ ...stripe, STRIPE_PRICES: 'trial=a,starter=b,starter=c,professional=d,enterprise=e' }, 'STRIPE_PRICES'],
      [
        { ...stripe, STRIPE_PRICES: 'trial=a,starter=b,professional=d,enterprise=e', STRIPE_PACK_PRICES: 'credits-99=x' },
        'STRIPE_PACK_PRICES',
      ],
      [{ OPENROUTER_API_KEY: 'k', OPENROUTER_BASE_URL: 'not a url' }, 'OPENROUTER_BASE_URL'],
    ];
    for (const [env, variable] of cases) {
      const error = refusal(env);
      expect(error.details.variable, JSON.stringify(env)).toBe(variable);
      expect(error.message.startsWith(variable)).toBe(true);
    }
  });
});
