/**
 * The dashboard's settings from the environment. Everything is optional: with none, it runs on PGlite
 * in examples/dashboard/.data with sandbox payments and the mock model. A setting that is present but
 * wrong is a `VALIDATION` error naming it, before anything starts.
 *
 * PORT (3000) · HOST (127.0.0.1) · DATA_DIR · DATABASE_URL · PUBLIC_URL
 * STRIPE_SECRET_KEY + STRIPE_WEBHOOK_SECRET + STRIPE_PRICES ("starter=price_…,professional=price_…") [+ STRIPE_PACK_PRICES]
 * OPENROUTER_API_KEY [+ OPENROUTER_BASE_URL]
 * KEYCLOAK_URL + KEYCLOAK_REALM + KEYCLOAK_CLIENT_ID [+ KEYCLOAK_CUSTOMER_CLAIM]: accept the realm's access tokens
 */
import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Catalog, sampleCatalog, TallyError } from '@tally/core';
import type { StartOptions } from './serve.ts';

export const DEFAULT_DATA_DIR = fileURLToPath(new URL('../../.data', import.meta.url));

type Env = Record<string, string | undefined>;

function invalid(name: string, message: string): TallyError {
  return new TallyError('VALIDATION', `${name} ${message}`, { details: { variable: name } });
}

const present = (value: string | undefined): string | undefined => (value === undefined || value.trim() === '' ? undefined : value.trim());

/** `a=price_1,b=price_2` → `{ a: 'price_1', b: 'price_2' }`, every key one of `known`. */
function pairs(name: string, value: string, known: readonly string[]): Record<string, string> {
  const result: Record<string, string> = {};
  for (const item of value.split(',')) {
    const [key = '', id = '', ...rest] = item.split('=').map((part) => part.trim());
    if (!key || !id || rest.length > 0) throw invalid(name, `must look like "${known[0] ?? 'id'}=price_123,…", got "${item}"`);
    if (!known.includes(key)) throw invalid(name, `names "${key}", which is none of ${known.join(', ')}`);
    if (Object.hasOwn(result, key)) throw invalid(name, `names "${key}" twice`);
    result[key] = id;
  }
  return result;
}

export function configFromEnv(env: Env, cwd: string, catalog: Catalog = sampleCatalog): StartOptions {
  const portText = present(env.PORT) ?? '3000';
  const port = /^\d{1,5}$/.test(portText) ? Number(portText) : Number.NaN;
  if (!Number.isSafeInteger(port) || port > 65_535) throw invalid('PORT', `must be a port number (0-65535), got "${portText}"`);

  const dataDirText = present(env.DATA_DIR);
  const dataDir = dataDirText === undefined ? DEFAULT_DATA_DIR : isAbsolute(dataDirText) ? dataDirText : resolve(cwd, dataDirText);

  const databaseUrl = present(env.DATABASE_URL);
  if (databaseUrl !== undefined && (!URL.canParse(databaseUrl) || !/^postgres(ql)?:$/.test(new URL(databaseUrl).protocol))) {
    throw invalid('DATABASE_URL', 'must be a postgres:// or postgresql:// URL');
  }

  const publicUrl = present(env.PUBLIC_URL);
  if (publicUrl !== undefined && (!URL.canParse(publicUrl) || !/^https?:$/.test(new URL(publicUrl).protocol))) {
    throw invalid('PUBLIC_URL', 'must be an absolute http(s) URL');
  }

  const options: StartOptions = { port, dataDir, hostname: present(env.HOST) ?? '127.0.0.1' };
  if (databaseUrl !== undefined) options.databaseUrl = databaseUrl;
  if (publicUrl !== undefined) options.publicUrl = publicUrl;

  const stripeKey = present(env.STRIPE_SECRET_KEY);
  if (stripeKey !== undefined) {
    const webhookSecret = present(env.STRIPE_WEBHOOK_SECRET);
    if (webhookSecret === undefined)
      throw invalid('STRIPE_WEBHOOK_SECRET', 'is needed with STRIPE_SECRET_KEY (the signing secret of the webhook endpoint)');
    const pricesText = present(env.STRIPE_PRICES);
    if (pricesText === undefined)
      throw invalid('STRIPE_PRICES', 'is needed with STRIPE_SECRET_KEY, e.g. "starter=price_…,professional=price_…"');
    const prices = pairs(
      'STRIPE_PRICES',
      pricesText,
      catalog.tiers.map((tier) => tier.id),
    );
    const unpriced = catalog.tiers.filter((tier) => tier.price > 0n && !prices[tier.id]).map((tier) => tier.id);
    if (unpriced.length > 0) throw invalid('STRIPE_PRICES', `has no price for ${unpriced.join(', ')}`);
    const packsText = present(env.STRIPE_PACK_PRICES);
    options.stripe = {
      secretKey: stripeKey,
      webhookSecret,
      prices,
      ...(packsText === undefined
        ? {}
        : {
            packs: pairs(
              'STRIPE_PACK_PRICES',
              packsText,
              catalog.packs.map((pack) => pack.id),
            ),
          }),
    };
  }

  const openRouterKey = present(env.OPENROUTER_API_KEY);
  if (openRouterKey !== undefined) {
    const baseUrl = present(env.OPENROUTER_BASE_URL);
    if (baseUrl !== undefined && (!URL.canParse(baseUrl) || !/^https?:$/.test(new URL(baseUrl).protocol))) {
      throw invalid('OPENROUTER_BASE_URL', 'must be an absolute http(s) URL');
    }
    options.openRouter = { apiKey: openRouterKey, ...(baseUrl === undefined ? {} : { baseUrl }) };
  }

  const keycloak = { url: present(env.KEYCLOAK_URL), realm: present(env.KEYCLOAK_REALM), clientId: present(env.KEYCLOAK_CLIENT_ID) };
  const keycloakNames = { url: 'KEYCLOAK_URL', realm: 'KEYCLOAK_REALM', clientId: 'KEYCLOAK_CLIENT_ID' } as const;
  const keycloakSet = (Object.keys(keycloak) as Array<keyof typeof keycloak>).filter((key) => keycloak[key] !== undefined);
  const customerClaim = present(env.KEYCLOAK_CUSTOMER_CLAIM);
  if (keycloakSet.length > 0 || customerClaim !== undefined) {
    // Half a Keycloak setting would quietly leave the demo sign-in alone in charge: refuse it instead.
    const missing = (Object.keys(keycloakNames) as Array<keyof typeof keycloakNames>).find((key) => keycloak[key] === undefined);
    if (missing !== undefined) {
      throw invalid(
        keycloakNames[missing],
        'is needed with the other KEYCLOAK_* settings (KEYCLOAK_URL, KEYCLOAK_REALM, KEYCLOAK_CLIENT_ID)',
      );
    }
    const { url, realm, clientId } = keycloak as Record<keyof typeof keycloak, string>;
    if (!URL.canParse(url) || !/^https?:$/.test(new URL(url).protocol)) {
      throw invalid('KEYCLOAK_URL', "must be the Keycloak server's absolute http(s) URL, e.g. https://sso.example.com");
    }
    options.keycloak = { url, realm, clientId, ...(customerClaim === undefined ? {} : { customerClaim }) };
  }
  return options;
}
