// Version 7: the call log of metered calls that charged nothing (docs/ledger.md, "Calls that charge nothing").
// A plain table: the store reads and writes it with parameterized statements. Never edit it once shipped.
//
// One row per call, never updated. A charged call is a usage entry in tally_entries instead, so each
// call is in exactly one of the two. The unique key makes a retried request land once
// (`insert … on conflict (customer_id, idempotency_key) do nothing`).
//
// No foreign key to tally_customers: the insert checks the customer exists in the same statement, and
// a key would take a share lock on the customer row that waits on every ledger operation holding it
// for update. Customers are never deleted, so the check stays true.
//
// Listings page oldest first from the last (at, id) they returned, within [from, to):
//   where at >= $from and at < $to and (at, id) > ($at, $id) order by at, id limit n
// one range scan of the first index; with a customer, of the second.
//
// The explanations live here rather than in the SQL text, which ships in the bundle.
export const schemaV7 = `
-- Tally schema, version 7: calls of free models and BYOK calls without a platform fee (see schema-v7.ts).
create table tally_uncharged_calls (
  id bigint generated always as identity primary key,
  customer_id text not null,
  end_user_id text,
  model text not null,
  input_tokens bigint not null check (input_tokens >= 0),
  cached_input_tokens bigint not null check (cached_input_tokens between 0 and input_tokens),
  output_tokens bigint not null check (output_tokens >= 0),
  reasoning_tokens bigint not null check (reasoning_tokens between 0 and output_tokens),
  provider_cost_nano_usd bigint not null check (provider_cost_nano_usd >= 0),
  key_source text not null check (key_source in ('managed', 'byok')),
  free boolean not null,
  catalog_version text not null,
  generation_id text,
  idempotency_key text not null,
  at timestamptz not null,
  constraint tally_uncharged_calls_key unique (customer_id, idempotency_key)
);
create index tally_uncharged_calls_at on tally_uncharged_calls (at, id);
create index tally_uncharged_calls_customer_at on tally_uncharged_calls (customer_id, at, id);
`;
