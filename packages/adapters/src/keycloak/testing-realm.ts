/**
 * A fake Keycloak realm for msw: its public keys at the certs endpoint, shaped like Keycloak's answer
 * (an `enc` RSA-OAEP key beside the signing keys; `kid`, `kty`, `alg`, `use`, `n`/`e` or `crv`/`x`/`y`;
 * RSA keys with a real self-signed certificate in `x5c` and its `x5t`/`x5t#S256` thumbprints), and
 * access tokens signed and shaped like Keycloak's (header `{ alg, typ: "JWT", kid }`; claims `exp`,
 * `iat`, `auth_time`, `jti`, `iss`, `aud`, `sub`, `typ: "Bearer"`, `azp`, `sid`, `acr`,
 * `allowed-origins`, `realm_access`, `resource_access`, `scope`, profile claims). Keys rotate like a
 * realm's: a new key becomes the active one and the old one stays listed until removed. Not part of
 * the published entry points.
 */
import { HttpResponse, http } from 'msw';

export type FakeSigningAlgorithm = 'RS256' | 'PS256' | 'ES256';

export interface FakeKeycloakRealmOptions {
  /** Default `https://sso.example.com`. */
  url?: string;
  /** Default `tally`. */
  realm?: string;
  /** The API tokens are meant for (in `aud` and `resource_access`). Default `tally-api`. */
  clientId?: string;
  /** The client tokens are issued to (`azp`). Default `tally-web`. */
  issuedTo?: string;
  /** The time tokens are issued at. Default: the system clock. */
  now?: () => Date;
}

/** What the certs endpoint answers instead of the key set. */
export type FakeRealmOutage = null | 'network' | 'not-json' | { status: number };

interface RealmKey {
  kid: string;
  alg: string;
  privateKey: CryptoKey | null;
  jwk: Record<string, unknown>;
  /** In the key set; a dropped key still signs, like tokens issued before it was dropped. */
  listed: boolean;
}

export interface SignOptions {
  /** Which key signs. Default: the active key. */
  kid?: string;
  /** Header members to add or replace (`undefined` removes one), e.g. `{ kid: 'other' }`. */
  header?: Record<string, unknown>;
}

const encoder = new TextEncoder();

export function base64url(bytes: Uint8Array | ArrayBuffer | string): string {
  const data = typeof bytes === 'string' ? encoder.encode(bytes) : new Uint8Array(bytes);
  return Buffer.from(data).toString('base64url');
}

// ---- a minimal DER writer: enough for one self-signed X.509 certificate, as Keycloak puts in `x5c`.

function der(tag: number, ...parts: Uint8Array[]): Uint8Array<ArrayBuffer> {
  const length = parts.reduce((sum, part) => sum + part.byteLength, 0);
  const head = length < 0x80 ? [tag, length] : length < 0x100 ? [tag, 0x81, length] : [tag, 0x82, (length >> 8) & 0xff, length & 0xff];
  return Uint8Array.from([...head, ...parts.flatMap((part) => [...part])]);
}
const bytes = (...values: number[]) => Uint8Array.from(values);
const SHA256_WITH_RSA = der(0x30, bytes(0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b), bytes(0x05, 0x00));
const COMMON_NAME = bytes(0x06, 0x03, 0x55, 0x04, 0x03);

function utcTime(date: Date): Uint8Array<ArrayBuffer> {
  const text = date.toISOString().replace(/[-:T]/g, '').slice(2, 14);
  return der(0x17, encoder.encode(`${text}Z`));
}

/** A self-signed certificate for `CN=<realm>`, as Keycloak's generated RSA keys have (SHA256withRSA). */
async function selfSignedCertificate(
  realm: string,
  spki: ArrayBuffer,
  signer: CryptoKey,
  issuedAt: Date,
): Promise<Uint8Array<ArrayBuffer>> {
  const name = der(0x30, der(0x31, der(0x30, COMMON_NAME, der(0x0c, encoder.encode(realm)))));
  const serial = crypto.getRandomValues(new Uint8Array(8));
  serial[0] = (serial[0] as number) & 0x7f;
  const tbs = der(
    0x30,
    der(0xa0, der(0x02, bytes(0x02))),
    der(0x02, serial),
    SHA256_WITH_RSA,
    name,
    der(0x30, utcTime(issuedAt), utcTime(new Date(issuedAt.getTime() + 10 * 365 * 86_400_000))),
    name,
    new Uint8Array(spki),
  );
  const signature = await crypto.subtle.sign('RSASSA-PKCS1-v1_5', signer, tbs);
  return der(0x30, tbs, SHA256_WITH_RSA, der(0x03, bytes(0x00), new Uint8Array(signature)));
}

const RSA = { modulusLength: 2048, publicExponent: bytes(1, 0, 1) };

async function generate(alg: FakeSigningAlgorithm | 'RSA-OAEP'): Promise<CryptoKeyPair> {
  switch (alg) {
    case 'RS256':
      return crypto.subtle.generateKey({ name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256', ...RSA }, true, ['sign', 'verify']);
    case 'PS256':
      return crypto.subtle.generateKey({ name: 'RSA-PSS', hash: 'SHA-256', ...RSA }, true, ['sign', 'verify']);
    case 'ES256':
      return crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify']);
    case 'RSA-OAEP':
      return crypto.subtle.generateKey({ name: 'RSA-OAEP', hash: 'SHA-1', ...RSA }, true, ['encrypt', 'decrypt']);
  }
}

const SIGN_PARAMS: Record<FakeSigningAlgorithm, AlgorithmIdentifier | RsaPssParams | EcdsaParams> = {
  RS256: 'RSASSA-PKCS1-v1_5',
  PS256: { name: 'RSA-PSS', saltLength: 32 },
  ES256: { name: 'ECDSA', hash: 'SHA-256' },
};

export async function createFakeKeycloakRealm(options: FakeKeycloakRealmOptions = {}) {
  const url = (options.url ?? 'https://sso.example.com').replace(/\/+$/, '');
  const realm = options.realm ?? 'tally';
  const clientId = options.clientId ?? 'tally-api';
  const issuedTo = options.issuedTo ?? 'tally-web';
  const now = options.now ?? (() => new Date());
  const issuer = `${url}/realms/${realm}`;
  const certsUrl = `${issuer}/protocol/openid-connect/certs`;
  const keys: RealmKey[] = [];
  let active = '';
  let outage: FakeRealmOutage = null;
  let certsRequests = 0;

  async function addKey(alg: FakeSigningAlgorithm | 'RSA-OAEP'): Promise<string> {
    const pair = await generate(alg);
    const exported = await crypto.subtle.exportKey('jwk', pair.publicKey);
    const kid = base64url(crypto.getRandomValues(new Uint8Array(32)));
    const jwk: Record<string, unknown> = { kid, kty: exported.kty, alg, use: alg === 'RSA-OAEP' ? 'enc' : 'sig' };
    if (exported.kty === 'RSA') {
      Object.assign(jwk, { n: exported.n, e: exported.e });
      // Keycloak signs each RSA key's certificate with that key; any RSA private key imports for PKCS#1 signing.
      const pkcs8 = await crypto.subtle.exportKey('pkcs8', pair.privateKey);
      const signer = await crypto.subtle.importKey('pkcs8', pkcs8, { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }, false, ['sign']);
      const spki = await crypto.subtle.exportKey('spki', pair.publicKey);
      const certificate = await selfSignedCertificate(realm, spki, signer, now());
      Object.assign(jwk, {
        x5c: [Buffer.from(certificate).toString('base64')],
        x5t: base64url(await crypto.subtle.digest('SHA-1', certificate)),
        'x5t#S256': base64url(await crypto.subtle.digest('SHA-256', certificate)),
      });
    } else {
      Object.assign(jwk, { crv: exported.crv, x: exported.x, y: exported.y });
    }
    keys.push({ kid, alg, privateKey: alg === 'RSA-OAEP' ? null : pair.privateKey, jwk, listed: true });
    return kid;
  }

  function keyOf(kid: string): RealmKey {
    const key = keys.find((candidate) => candidate.kid === kid);
    if (!key) throw new Error(`the fake realm has no key ${kid}`);
    return key;
  }

  /** Claims like those of a Keycloak access token for a user of the realm, issued to `issuedTo` now. */
  function claims(overrides: Record<string, unknown> = {}): Record<string, unknown> {
    const issuedAt = Math.floor(now().getTime() / 1000);
    const base: Record<string, unknown> = {
      exp: issuedAt + 300,
      iat: issuedAt,
      auth_time: issuedAt,
      jti: crypto.randomUUID(),
      iss: issuer,
      aud: [clientId, 'account'],
      sub: crypto.randomUUID(),
      typ: 'Bearer',
      azp: issuedTo,
      sid: crypto.randomUUID(),
      acr: '1',
      'allowed-origins': ['https://app.example.com'],
      realm_access: { roles: [`default-roles-${realm}`, 'offline_access', 'uma_authorization'] },
      resource_access: { [clientId]: { roles: [] }, account: { roles: ['manage-account', 'manage-account-links', 'view-profile'] } },
      scope: 'openid email profile',
      email_verified: true,
      name: 'Ada Lovelace',
      preferred_username: 'ada',
      given_name: 'Ada',
      family_name: 'Lovelace',
      email: 'ada@example.com',
    };
    for (const [name, value] of Object.entries(overrides)) {
      if (value === undefined) delete base[name];
      else base[name] = value;
    }
    return base;
  }

  /** A compact JWS of `payload`, signed by one of the realm's keys as Keycloak signs. */
  async function sign(payload: Record<string, unknown>, signOptions: SignOptions = {}): Promise<string> {
    const key = keyOf(signOptions.kid ?? active);
    if (!key.privateKey) throw new Error(`key ${key.kid} is an encryption key`);
    const header: Record<string, unknown> = { alg: key.alg, typ: 'JWT', kid: key.kid };
    for (const [name, value] of Object.entries(signOptions.header ?? {})) {
      if (value === undefined) delete header[name];
      else header[name] = value;
    }
    const input = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(payload))}`;
    const signature = await crypto.subtle.sign(SIGN_PARAMS[key.alg as FakeSigningAlgorithm], key.privateKey, encoder.encode(input));
    return `${input}.${base64url(signature)}`;
  }

  const jwks = () => ({ keys: keys.filter((key) => key.listed).map((key) => key.jwk) });

  // A fresh realm as Keycloak creates it: a generated RS256 signing key and an RSA-OAEP encryption key.
  await addKey('RSA-OAEP');
  active = await addKey('RS256');

  const handlers = [
    http.get(certsUrl, () => {
      certsRequests++;
      if (outage === 'network') return HttpResponse.error();
      if (outage === 'not-json') return new HttpResponse('<html>Service Unavailable</html>', { headers: { 'content-type': 'text/html' } });
      if (outage) return HttpResponse.json({ error: 'unknown_error' }, { status: outage.status });
      return HttpResponse.json(jwks());
    }),
  ];

  return {
    url,
    realm,
    clientId,
    issuedTo,
    issuer,
    certsUrl,
    handlers,
    /** Requests the certs endpoint has had. */
    get certsRequests() {
      return certsRequests;
    },
    /** The key that signs by default. */
    get activeKid() {
      return active;
    },
    /** The encryption key's `kid` (listed, never signing). */
    get encryptionKid() {
      return keys.find((key) => key.alg === 'RSA-OAEP')?.kid as string;
    },
    /** The public keys as the certs endpoint lists them. */
    jwks,
    claims,
    sign,
    /** An access token: `claims(overrides)` signed by the active key (or `signOptions.kid`). */
    token: (overrides: Record<string, unknown> = {}, signOptions: SignOptions = {}) => sign(claims(overrides), signOptions),
    /** A new key of the realm, listed from now on; `activate` makes it the one that signs (a rotation). */
    async addKey(alg: FakeSigningAlgorithm = 'RS256', activate = true): Promise<string> {
      const kid = await addKey(alg);
      if (activate) active = kid;
      return kid;
    },
    /** Drops a key from the set (as disabling or deleting its key provider does); tests can still sign with it. */
    removeKey(kid: string) {
      keyOf(kid).listed = false;
    },
    /** What the certs endpoint answers from now on; null: the key set again. */
    setOutage(next: FakeRealmOutage) {
      outage = next;
    },
  };
}

export type FakeKeycloakRealm = Awaited<ReturnType<typeof createFakeKeycloakRealm>>;
