import {
  checkUnchargedCalls,
  checkUnchargedQuery,
  type Page,
  TallyError,
  type UnchargedCall,
  type UnchargedCallQuery,
  type UnchargedCallRecord,
  unchargedCallCursor,
} from '@tally/core';

/** The SQL store's query helper: parameters as Postgres text, errors translated. */
export type Rows = <Row>(text: string, params?: readonly unknown[]) => Promise<Row[]>;

// The call log (schema version 7), oldest first by (at, id). The output names shadow the columns in an
// order by, so the listing orders by the qualified columns (u.at, u.id), not this text.
const CALL_COLUMNS = `id::text as id, customer_id, end_user_id, model, input_tokens::text as input_tokens,
  cached_input_tokens::text as cached_input_tokens, output_tokens::text as output_tokens,
  reasoning_tokens::text as reasoning_tokens, provider_cost_nano_usd::text as provider_cost_nano_usd, key_source, free,
  catalog_version, generation_id, idempotency_key, tally__ts(at) as at`;

interface UnchargedCallRow {
  id: string;
  customer_id: string;
  end_user_id: string | null;
  model: string;
  input_tokens: string;
  cached_input_tokens: string;
  output_tokens: string;
  reasoning_tokens: string;
  provider_cost_nano_usd: string;
  key_source: string;
  free: boolean;
  catalog_version: string;
  generation_id: string | null;
  idempotency_key: string;
  at: string;
}

/** The table's checks and core's (checkUnchargedCalls) keep counts safe integers and the key source in its list. */
function decodeUnchargedCall(row: UnchargedCallRow): UnchargedCallRecord {
  return {
    id: row.id,
    customerId: row.customer_id,
    endUserId: row.end_user_id,
    model: row.model,
    inputTokens: Number(row.input_tokens),
    cachedInputTokens: Number(row.cached_input_tokens),
    outputTokens: Number(row.output_tokens),
    reasoningTokens: Number(row.reasoning_tokens),
    providerCostNanoUsd: BigInt(row.provider_cost_nano_usd),
    keySource: row.key_source as UnchargedCall['keySource'],
    free: row.free === true,
    catalogVersion: row.catalog_version,
    generationId: row.generation_id,
    idempotencyKey: row.idempotency_key,
    at: new Date(row.at),
  };
}

// One statement per batch, so it is atomic without a transaction of its own: the batch arrives as one
// JSON array, `missing` names the first unknown customer (then nothing is inserted), and the insert
// skips keys already logged. Core sorts the batch by (customer, key), so concurrent batches wait on
// each other's keys in one order and never deadlock; `order by ordinality` keeps that order.
const INSERTED = `customer_id, end_user_id, model, input_tokens, cached_input_tokens, output_tokens, reasoning_tokens,
  provider_cost_nano_usd, key_source, free, catalog_version, generation_id, idempotency_key, at`;
const RECORD = `with i as (
  select * from rows from (jsonb_to_recordset($1::jsonb) as (customer_id text, end_user_id text, model text, input_tokens bigint,
    cached_input_tokens bigint, output_tokens bigint, reasoning_tokens bigint, provider_cost_nano_usd bigint, key_source text,
    free boolean, catalog_version text, generation_id text, idempotency_key text, at timestamptz)) with ordinality
), missing as (
  select customer_id from i where not exists (select 1 from tally_customers c where c.id = i.customer_id) order by ordinality limit 1
), added as (
  insert into tally_uncharged_calls (${INSERTED}) select ${INSERTED} from i where not exists (select 1 from missing)
  order by ordinality on conflict (customer_id, idempotency_key) do nothing returning 1
)
select (select customer_id from missing) as missing, (select count(*) from added)::int as added`;

export async function recordUncharged(rows: Rows, calls: UnchargedCall[]): Promise<number> {
  const checked = checkUnchargedCalls(calls);
  if (checked.length === 0) return 0;
  const batch = checked.map((c) => ({
    customer_id: c.customerId,
    end_user_id: c.endUserId,
    model: c.model,
    input_tokens: c.inputTokens,
    cached_input_tokens: c.cachedInputTokens,
    output_tokens: c.outputTokens,
    reasoning_tokens: c.reasoningTokens,
    provider_cost_nano_usd: c.providerCostNanoUsd.toString(),
    key_source: c.keySource,
    free: c.free,
    catalog_version: c.catalogVersion,
    generation_id: c.generationId,
    idempotency_key: c.idempotencyKey,
    at: c.at.toISOString(),
  }));
  const [result] = await rows<{ missing: string | null; added: number }>(RECORD, [JSON.stringify(batch)]);
  if (result?.missing != null) {
    throw new TallyError('NOT_FOUND', `Unknown customer "${result.missing}"`, { details: { customerId: result.missing } });
  }
  return Number(result?.added ?? 0);
}

export async function listUncharged(rows: Rows, query: UnchargedCallQuery): Promise<Page<UnchargedCallRecord>> {
  const { customerId, from, to, after, limit } = checkUnchargedQuery(query);
  // Only the conditions given, so the planner sees plain ranges it can serve from an index.
  const params: unknown[] = [from, to];
  const param = (value: unknown) => {
    params.push(value);
    return `$${params.length}`;
  };
  const where = [
    'u.at >= $1',
    'u.at < $2',
    customerId === null ? null : `u.customer_id = ${param(customerId)}`,
    after === null ? null : `(u.at, u.id) > (${param(after.at)}::timestamptz, ${param(after.id)}::bigint)`,
  ].filter((condition) => condition !== null);
  const found = await rows<UnchargedCallRow>(
    `select ${CALL_COLUMNS} from tally_uncharged_calls u
     where ${where.join(' and ')}
     order by u.at, u.id
     limit ${param(limit + 1)}`,
    params,
  );
  const items = found.slice(0, limit).map(decodeUnchargedCall);
  return { items, nextCursor: found.length > limit ? unchargedCallCursor(items[limit - 1] as UnchargedCallRecord) : null };
}
