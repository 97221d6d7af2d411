// Version 3: customers' provider keys and provider-balance snapshots (docs/byok.md). Never edit it once shipped.
//
// Provider keys are a customer's own BYOK key or one the platform provisioned for them, sealed by the
// vault in core: `sealed` holds serializeSealed (`v1.<keyId>.<iv>.<ciphertext>`), never the plaintext.
// The sync job writes one balance snapshot per key; `remaining_nano_usd` is null without a limit and
// negative when the key overspent. Nano-USD fit a bigint (9.2e9 USD). Plain tables: the store reads and
// writes them with parameterized statements, listing keys in binary order (collate "C", the memory
// store's order), which the index serves. (The comments live here so the shipped script stays small.)
export const schemaV3 = `
create table tally_provider_keys (
  customer_id text not null references tally_customers (id),
  provider text not null check (provider ~ '^[a-z0-9][a-z0-9._-]{0,63}$'),
  source text not null check (source in ('byok', 'provisioned')),
  sealed text not null check (sealed like 'v1.%'),
  key_id text not null,
  last4 text not null check (char_length(last4) <= 4),
  provider_key_hash text,
  created_at timestamptz not null,
  updated_at timestamptz not null,
  primary key (customer_id, provider, source),
  check (key_id = split_part(sealed, '.', 2))
);
create index tally_provider_keys_order on tally_provider_keys (customer_id collate "C", provider collate "C", source collate "C");

create table tally_provider_balances (
  customer_id text not null references tally_customers (id),
  provider text not null check (provider ~ '^[a-z0-9][a-z0-9._-]{0,63}$'),
  source text not null check (source in ('byok', 'provisioned')),
  limit_nano_usd bigint check (limit_nano_usd >= 0),
  usage_nano_usd bigint not null check (usage_nano_usd >= 0),
  remaining_nano_usd bigint,
  low boolean not null,
  synced_at timestamptz not null,
  primary key (customer_id, provider, source)
);
`;
