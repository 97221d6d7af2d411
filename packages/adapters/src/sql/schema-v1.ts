// Version 1 of the ledger schema and its functions. Semantics: docs/ledger.md.
export const schemaV1 = `
-- Tally ledger schema, version 1. Semantics: docs/ledger.md. Every function takes the time as a
-- parameter (Tally's clock), never now(), so tests and simulations are deterministic.

create table tally_customers (
  id text primary key,
  tier text not null,
  overdraft_limit bigint not null default 0 check (overdraft_limit >= 0),
  unlimited boolean not null default false,
  balance bigint not null default 0,
  held bigint not null default 0 check (held >= 0),
  debt bigint not null default 0 check (debt >= 0),
  created_at timestamptz not null
);

create table tally_buckets (
  id bigint generated always as identity primary key,
  customer_id text not null references tally_customers (id),
  kind text not null check (kind in ('allowance', 'purchased', 'coupon', 'adjustment')),
  granted bigint not null check (granted > 0),
  remaining bigint not null check (remaining >= 0 and remaining <= granted),
  -- Whether the bucket has credit left. The partial indexes test this column rather than remaining,
  -- so a spend that leaves a bucket non-empty changes no indexed value and can be a HOT update
  -- (no index entries written); only the update that empties the bucket touches the indexes.
  live boolean generated always as (remaining > 0) stored,
  expires_at timestamptz,
  created_at timestamptz not null
);
create index tally_buckets_live on tally_buckets (customer_id, expires_at, id) where live;
create index tally_buckets_due on tally_buckets (expires_at) where live and expires_at is not null;

create sequence tally_operation_seq;

create table tally_entries (
  id bigint generated always as identity primary key,
  operation_id bigint not null,
  customer_id text not null,
  kind text not null,
  from_account text not null,
  to_account text not null,
  amount bigint not null check (amount > 0),
  bucket_id bigint,
  bucket_delta bigint not null default 0,
  hold_id bigint,
  description text,
  usage jsonb,
  created_at timestamptz not null
);
create index tally_entries_customer on tally_entries (customer_id, id);
create index tally_entries_created on tally_entries (created_at);

create table tally_holds (
  id bigint generated always as identity primary key,
  customer_id text not null references tally_customers (id),
  amount bigint not null check (amount > 0),
  status text not null check (status in ('active', 'captured', 'released', 'expired')),
  captured bigint,
  expires_at timestamptz not null,
  created_at timestamptz not null,
  settled_at timestamptz
);
create index tally_holds_active on tally_holds (customer_id, expires_at) where status = 'active';
create index tally_holds_due on tally_holds (expires_at) where status = 'active';

create table tally_idempotency (
  key text primary key,
  operation text not null,
  request text not null,
  operation_id bigint,
  result jsonb,
  created_at timestamptz not null
);

create table tally_outbox (
  id bigint generated always as identity primary key,
  topic text not null,
  payload text not null,
  dedupe_key text not null unique,
  attempts integer not null default 0,
  created_at timestamptz not null,
  available_at timestamptz not null,
  leased_until timestamptz,
  delivered_at timestamptz,
  last_error text,
  dead boolean not null default false
);
create index tally_outbox_due on tally_outbox (available_at, id) where delivered_at is null and not dead;

-- Errors reach the client as 'TALLY:<CODE>:<message>' and become TallyErrors there.
create function tally__fail(p_code text, p_message text) returns void language plpgsql as $$
begin
  raise exception 'TALLY:%:%', p_code, p_message using errcode = 'P0001';
end $$;

create function tally__ts(p timestamptz) returns text language sql stable as $$
  select to_char(p at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
$$;

create function tally__entry_json(e tally_entries) returns jsonb language sql stable as $$
  select jsonb_build_object(
    'id', e.id::text, 'operationId', e.operation_id::text, 'customerId', e.customer_id, 'kind', e.kind,
    'fromAccount', e.from_account, 'toAccount', e.to_account, 'amountMicros', e.amount::text,
    'bucketId', e.bucket_id::text, 'bucketDeltaMicros', e.bucket_delta::text, 'holdId', e.hold_id::text,
    'description', e.description, 'usage', e.usage, 'createdAt', tally__ts(e.created_at))
$$;

create function tally__bucket_json(b tally_buckets) returns jsonb language sql stable as $$
  select jsonb_build_object(
    'id', b.id::text, 'customerId', b.customer_id, 'kind', b.kind, 'grantedMicros', b.granted::text,
    'remainingMicros', b.remaining::text, 'expiresAt', tally__ts(b.expires_at), 'createdAt', tally__ts(b.created_at))
$$;

create function tally__hold_json(h tally_holds) returns jsonb language sql stable as $$
  select jsonb_build_object(
    'id', h.id::text, 'customerId', h.customer_id, 'amountMicros', h.amount::text, 'status', h.status,
    'capturedMicros', h.captured::text, 'expiresAt', tally__ts(h.expires_at), 'createdAt', tally__ts(h.created_at),
    'settledAt', tally__ts(h.settled_at))
$$;

create function tally__snapshot(c tally_customers) returns jsonb language sql stable as $$
  select jsonb_build_object('balanceMicros', c.balance::text, 'heldMicros', c.held::text, 'debtMicros', c.debt::text)
$$;

create function tally__outbox(p_topic text, p_operation bigint, p_customer text, p_amount bigint, p_balance bigint, p_at timestamptz)
returns void language plpgsql as $$
begin
  insert into tally_outbox (topic, payload, dedupe_key, created_at, available_at)
  values (p_topic,
          json_build_object('customerId', p_customer, 'operationId', p_operation::text, 'amountMicros', p_amount::text,
                            'balanceMicros', p_balance::text, 'at', tally__ts(p_at))::text,
          p_topic || ':' || p_operation, p_at, p_at)
  on conflict (dedupe_key) do nothing;
end $$;

-- Claims an idempotency key. Returns null when the caller should do the work, or the stored
-- result (marked replayed) when the same request already succeeded. Concurrent callers with one
-- key wait on the key's index entry until the first commits or rolls back.
create function tally__claim_key(p_key text, p_operation text, p_request text, p_at timestamptz)
returns jsonb language plpgsql as $$
declare
  r tally_idempotency;
begin
  insert into tally_idempotency (key, operation, request, created_at)
  values (p_key, p_operation, p_request, p_at)
  on conflict (key) do nothing;
  if found then
    return null;
  end if;
  select * into r from tally_idempotency where key = p_key;
  if r.operation <> p_operation or r.request <> p_request then
    perform tally__fail('IDEMPOTENCY_CONFLICT', 'idempotency key "' || p_key || '" was used for a different request');
  end if;
  return r.result || '{"replayed": true}'::jsonb;
end $$;

-- The key remembers its operation only when that operation wrote entries (a zero capture writes
-- none), so the audit can check that every remembered operation is in the journal.
create function tally__store_result(p_key text, p_operation bigint, p_result jsonb) returns jsonb language plpgsql as $$
begin
  update tally_idempotency
  set result = p_result,
      operation_id = case when jsonb_array_length(coalesce(p_result -> 'entries', '[]'::jsonb)) > 0 then p_operation end
  where key = p_key;
  return p_result || '{"replayed": false}'::jsonb;
end $$;

-- Locks the customer row, then expires its due holds and buckets (p_expire: 'all', or only
-- 'holds' or 'buckets' for the sweepers, which touch nothing else). The customer row lock is what serialises every change to a customer's buckets and holds: every
-- function that touches them takes it first, so they need no row locks of their own.
create function tally__lock_customer(p_customer text, p_at timestamptz, p_expire text default 'all') returns tally_customers
language plpgsql as $$
declare
  c tally_customers;
  b record;
  v_freed bigint := 0;
  v_op bigint;
  v_expired bigint := 0;
  v_holds_due boolean;
  v_buckets_due boolean;
begin
  select * into c from tally_customers where id = p_customer for update;
  if not found then
    perform tally__fail('NOT_FOUND', 'unknown customer "' || p_customer || '"');
  end if;
  -- Usually nothing is due: one probe of each partial index, no writes.
  select exists (select 1 from tally_holds where customer_id = p_customer and status = 'active' and expires_at <= p_at),
         exists (select 1 from tally_buckets where customer_id = p_customer and live and expires_at <= p_at)
    into v_holds_due, v_buckets_due;
  v_holds_due := v_holds_due and p_expire <> 'buckets';
  v_buckets_due := v_buckets_due and p_expire <> 'holds';
  if not (v_holds_due or v_buckets_due) then
    return c;
  end if;

  if v_holds_due then
    with due as (
      update tally_holds set status = 'expired', settled_at = p_at
      where customer_id = p_customer and status = 'active' and expires_at <= p_at
      returning amount
    )
    select coalesce(sum(amount), 0) into v_freed from due;
  end if;
  if v_freed > 0 then
    update tally_customers set held = held - v_freed where id = p_customer returning * into c;
  end if;

  -- All of the customer's due buckets expire as one operation, announced by one outbox row.
  for b in
    select id, remaining from tally_buckets
    where v_buckets_due and customer_id = p_customer and live and expires_at <= p_at
    order by expires_at, id
    for update
  loop
    v_op := coalesce(v_op, nextval('tally_operation_seq'));
    v_expired := v_expired + b.remaining;
    update tally_buckets set remaining = 0 where id = b.id;
    insert into tally_entries (operation_id, customer_id, kind, from_account, to_account, amount, bucket_id, bucket_delta, created_at)
    values (v_op, p_customer, 'expire', 'customer:' || p_customer, 'system:expired', b.remaining, b.id, -b.remaining, p_at);
  end loop;
  if v_expired > 0 then
    update tally_customers set balance = balance - v_expired where id = p_customer returning * into c;
    perform tally__outbox('credits.expired', v_op, p_customer, v_expired, c.balance, p_at);
  end if;
  return c;
end $$;

-- Takes p_take micros from the customer's buckets (soonest expiry first), then from the overdraft,
-- writing one entry per bucket touched. The caller has checked the amount against what is available,
-- holds the customer row lock, and updates the customer's balance.
create function tally__drain(c tally_customers, p_take bigint, p_op bigint, p_kind text, p_to text,
                             p_hold bigint, p_description text, p_usage jsonb, p_at timestamptz)
returns jsonb language plpgsql as $$
declare
  v_drained bigint := 0;
  v_entries jsonb := '[]'::jsonb;
  v_bucket bigint;
  e tally_entries;
begin
  if p_take <= 0 then
    return v_entries;
  end if;
  if c.balance > 0 then
    -- Usually the first bucket in draining order covers the whole take: one update, one entry.
    update tally_buckets set remaining = remaining - p_take
    where id = (select id from tally_buckets where customer_id = c.id and live order by expires_at nulls last, id limit 1)
      and remaining >= p_take
    returning id into v_bucket;
    if found then
      insert into tally_entries (operation_id, customer_id, kind, from_account, to_account, amount, bucket_id, bucket_delta,
                                 hold_id, description, usage, created_at)
      values (p_op, c.id, p_kind, 'customer:' || c.id, p_to, p_take, v_bucket, -p_take, p_hold, p_description, p_usage, p_at)
      returning * into e;
      return jsonb_build_array(tally__entry_json(e));
    end if;
    -- Otherwise one statement: each bucket in draining order gives what the ones before it left to take.
    with queue as (
      select id, remaining,
             coalesce(sum(remaining) over (order by expires_at nulls last, id rows between unbounded preceding and 1 preceding), 0) as before
      from tally_buckets
      where customer_id = c.id and live
    ), parts as (
      select id, least(remaining, p_take - before) as part from queue where before < p_take
    ), drained as (
      update tally_buckets b set remaining = b.remaining - parts.part
      from parts where b.id = parts.id
      returning b.id, b.expires_at, parts.part
    ), written as (
      insert into tally_entries (operation_id, customer_id, kind, from_account, to_account, amount, bucket_id, bucket_delta,
                                 hold_id, description, usage, created_at)
      select p_op, c.id, p_kind, 'customer:' || c.id, p_to, d.part, d.id, -d.part, p_hold, p_description, p_usage, p_at
      from drained d
      order by d.expires_at nulls last, d.id
      returning *
    )
    select coalesce(sum(w.amount), 0), coalesce(jsonb_agg(tally__entry_json(w) order by w.id), '[]'::jsonb)
      into v_drained, v_entries
    from written w;
  end if;
  if v_drained < p_take then
    insert into tally_entries (operation_id, customer_id, kind, from_account, to_account, amount, hold_id, description, usage, created_at)
    values (p_op, c.id, p_kind, 'customer:' || c.id, p_to, p_take - v_drained, p_hold, p_description, p_usage, p_at)
    returning * into e;
    v_entries := v_entries || tally__entry_json(e);
  end if;
  return v_entries;
end $$;

-- The shared body of spend, usage, capture and negative adjustments. p_mode:
--   'strict' refuses what exceeds the available credit; 'debt' takes what it can and records the rest as debt.
create function tally__charge(c tally_customers, p_amount bigint, p_mode text, p_kind text, p_to text, p_hold bigint,
                              p_description text, p_usage jsonb, p_at timestamptz)
returns jsonb language plpgsql as $$
declare
  v_op bigint := nextval('tally_operation_seq');
  v_available bigint;
  v_take bigint;
  v_debt bigint := 0;
  v_entries jsonb := '[]'::jsonb;
  e tally_entries;
begin
  if c.unlimited then
    if p_amount > 0 then
      insert into tally_entries (operation_id, customer_id, kind, from_account, to_account, amount, hold_id, description, usage, created_at)
      values (v_op, c.id, p_kind, 'system:unlimited', p_to, p_amount, p_hold, p_description, p_usage, p_at)
      returning * into e;
      v_entries := jsonb_build_array(tally__entry_json(e));
    end if;
    v_take := p_amount;
  else
    v_available := greatest(c.balance - c.held + c.overdraft_limit, 0);
    if p_mode = 'strict' and p_amount > v_available then
      perform tally__fail('INSUFFICIENT_CREDITS',
        'customer "' || c.id || '" has ' || v_available || ' micros available, needs ' || p_amount);
    end if;
    v_take := least(p_amount, v_available);
    v_debt := p_amount - v_take;
    v_entries := tally__drain(c, v_take, v_op, p_kind, p_to, p_hold, p_description, p_usage, p_at);
    if v_debt > 0 then
      insert into tally_entries (operation_id, customer_id, kind, from_account, to_account, amount, hold_id, description, usage, created_at)
      values (v_op, c.id, p_kind, 'debt:' || c.id, p_to, v_debt, p_hold, p_description, p_usage, p_at)
      returning * into e;
      v_entries := v_entries || tally__entry_json(e);
    end if;
    if v_take > 0 or v_debt > 0 then
      update tally_customers set balance = balance - v_take, debt = debt + v_debt where id = c.id returning * into c;
    end if;
  end if;
  if p_amount > 0 then
    -- tally__outbox, inlined on the busiest path (a nested call costs a query of its own).
    insert into tally_outbox (topic, payload, dedupe_key, created_at, available_at)
    values ('credits.charged',
            json_build_object('customerId', c.id, 'operationId', v_op::text, 'amountMicros', p_amount::text,
                              'balanceMicros', c.balance::text, 'at', tally__ts(p_at))::text,
            'credits.charged:' || v_op, p_at, p_at)
    on conflict (dedupe_key) do nothing;
  end if;
  return jsonb_build_object('operationId', v_op::text, 'entries', v_entries, 'balance', tally__snapshot(c),
                            'chargedMicros', (case when c.unlimited then 0 else v_take end)::text, 'debtMicros', v_debt::text);
end $$;

create function tally__grant(c tally_customers, p_kind text, p_amount bigint, p_expires timestamptz, p_from text,
                             p_entry_kind text, p_description text, p_at timestamptz)
returns jsonb language plpgsql as $$
declare
  v_op bigint := nextval('tally_operation_seq');
  v_covers bigint := least(p_amount, greatest(-c.balance, 0));
  b tally_buckets;
  e tally_entries;
begin
  insert into tally_buckets (customer_id, kind, granted, remaining, expires_at, created_at)
  values (c.id, p_kind, p_amount, p_amount - v_covers, p_expires, p_at)
  returning * into b;
  insert into tally_entries (operation_id, customer_id, kind, from_account, to_account, amount, bucket_id, bucket_delta, description, created_at)
  values (v_op, c.id, p_entry_kind, p_from, 'customer:' || c.id, p_amount, b.id, p_amount - v_covers, p_description, p_at)
  returning * into e;
  update tally_customers set balance = balance + p_amount where id = c.id returning * into c;
  perform tally__outbox('credits.granted', v_op, c.id, p_amount, c.balance, p_at);
  return jsonb_build_object('operationId', v_op::text, 'entries', jsonb_build_array(tally__entry_json(e)),
                            'balance', tally__snapshot(c), 'bucket', tally__bucket_json(b));
end $$;

-- ---- Public operations: one call, one round trip.

create function tally_upsert_customer(p_customer text, p_tier text, p_overdraft bigint, p_unlimited boolean, p_at timestamptz)
returns jsonb language sql as $$
  insert into tally_customers (id, tier, overdraft_limit, unlimited, created_at)
  values (p_customer, p_tier, p_overdraft, p_unlimited, p_at)
  on conflict (id) do update set tier = excluded.tier, overdraft_limit = excluded.overdraft_limit, unlimited = excluded.unlimited
  returning jsonb_build_object('id', id, 'tier', tier, 'overdraftLimitMicros', overdraft_limit::text, 'unlimited', unlimited,
                               'createdAt', tally__ts(created_at))
$$;

create function tally_grant(p_key text, p_request text, p_customer text, p_kind text, p_amount bigint, p_expires timestamptz,
                            p_description text, p_at timestamptz)
returns jsonb language plpgsql as $$
declare
  v_prior jsonb := tally__claim_key(p_key, 'grant', p_request, p_at);
  c tally_customers;
  v_result jsonb;
begin
  if v_prior is not null then return v_prior; end if;
  -- Checked after the key, so a late retry of a grant replays instead of failing.
  if p_expires is not null and p_expires <= p_at then
    perform tally__fail('VALIDATION', 'expiresAt must be in the future');
  end if;
  c := tally__lock_customer(p_customer, p_at);
  v_result := tally__grant(c, p_kind, p_amount, p_expires,
    case p_kind when 'allowance' then 'system:grants' when 'purchased' then 'system:purchases'
                when 'coupon' then 'system:coupons' else 'system:adjustments' end,
    'grant', p_description, p_at);
  return tally__store_result(p_key, (v_result ->> 'operationId')::bigint, v_result);
end $$;

create function tally_charge(p_operation text, p_key text, p_request text, p_customer text, p_amount bigint,
                             p_description text, p_usage jsonb, p_at timestamptz)
returns jsonb language plpgsql as $$
declare
  v_prior jsonb := tally__claim_key(p_key, p_operation, p_request, p_at);
  c tally_customers;
  v_result jsonb;
begin
  if v_prior is not null then return v_prior; end if;
  c := tally__lock_customer(p_customer, p_at);
  v_result := tally__charge(c, p_amount, case p_operation when 'spend' then 'strict' else 'debt' end,
                            p_operation, 'system:revenue', null, p_description, p_usage, p_at);
  return tally__store_result(p_key, (v_result ->> 'operationId')::bigint, v_result);
end $$;

-- Usage charges in one round trip: each item as recordUsage, in the order given; a replayed or
-- conflicting key, or an unknown customer, answers for that item alone.
--
-- The batch first locks its customers in one order (by id), so two batches that share customers
-- queue instead of deadlocking. The common case (fresh keys, known customers, nothing due to expire)
-- then runs as a few set-based statements; anything else, and batches too small to repay planning
-- the set-based statement (about a millisecond), runs item by item.
create function tally_usage_batch(p_items jsonb, p_at timestamptz) returns jsonb language plpgsql as $$
declare
  v_customers text[];
  v_keys text[];
  v_locked integer;
begin
  select array_agg(distinct value ->> 'customerId'), array_agg(value ->> 'key')
    into v_customers, v_keys
  from jsonb_array_elements(p_items);
  select count(*) into v_locked
  from (select 1 from tally_customers where id = any (v_customers) order by id for update) locked;
  if cardinality(v_keys) >= 4
     and v_locked = cardinality(v_customers)
     and cardinality(v_keys) = (select count(distinct k) from unnest(v_keys) k)
     and not exists (select 1 from tally_idempotency where key = any (v_keys))
     and not exists (select 1 from tally_holds where customer_id = any (v_customers) and status = 'active' and expires_at <= p_at)
     and not exists (select 1 from tally_buckets where customer_id = any (v_customers) and live and expires_at <= p_at)
  then
    return tally__usage_batch_set(p_items, v_customers, p_at);
  end if;
  return tally__usage_batch_items(p_items, p_at);
end $$;

-- Item by item, exactly as a sequence of recordUsage calls would run.
create function tally__usage_batch_items(p_items jsonb, p_at timestamptz) returns jsonb language plpgsql as $$
declare
  item jsonb;
  r tally_idempotency;
  c tally_customers;
  v_result jsonb;
  -- An array grows in place; appending to a jsonb array would copy it for every item (quadratic).
  v_results jsonb[] := '{}';
begin
  for item in select value from jsonb_array_elements(p_items) loop
    select * into r from tally_idempotency where key = item ->> 'key';
    if found then
      if r.operation <> 'usage' or r.request <> item ->> 'request' then
        v_results := array_append(v_results, jsonb_build_object('ok', false, 'code', 'IDEMPOTENCY_CONFLICT',
          'message', 'idempotency key "' || (item ->> 'key') || '" was used for a different request'));
      else
        v_results := array_append(v_results, jsonb_build_object('ok', true, 'result', r.result || '{"replayed": true}'::jsonb));
      end if;
      continue;
    end if;
    perform 1 from tally_customers where id = item ->> 'customerId';
    if not found then
      v_results := array_append(v_results, jsonb_build_object('ok', false, 'code', 'NOT_FOUND',
        'message', 'unknown customer "' || (item ->> 'customerId') || '"'));
      continue;
    end if;
    insert into tally_idempotency (key, operation, request, created_at) values (item ->> 'key', 'usage', item ->> 'request', p_at);
    c := tally__lock_customer(item ->> 'customerId', p_at);
    v_result := tally__charge(c, (item ->> 'amount')::bigint, 'debt', 'usage', 'system:revenue', null,
                              item ->> 'description', item -> 'usage', p_at);
    v_results := array_append(v_results, jsonb_build_object('ok', true,
      'result', tally__store_result(item ->> 'key', (v_result ->> 'operationId')::bigint, v_result)));
  end loop;
  return to_jsonb(v_results);
end $$;

-- The same effects as tally__usage_batch_items, set-based, for a batch whose keys are all new and
-- distinct, whose customers all exist (and are locked), and none of whose customers has a bucket or
-- hold due to expire. Per customer, the items' charges are laid end to end in item order: item i
-- takes what is left of the customer's available credit after the items before it (the rest is debt),
-- and its take drains the stretch [t_from, t_from + take) of the customer's buckets laid end to end in
-- draining order (soonest expiry first, no expiry last, ties by id); past the buckets is overdraft.
-- That is what draining item by item does. Ids (operations, entries, outbox) are drawn in item order.
-- Always planned for the batch at hand: a generic plan cannot know the batch size, guesses one row
-- per CTE, and its nested loops make a 1,000-item batch take seconds instead of milliseconds.
create function tally__usage_batch_set(p_items jsonb, p_customers text[], p_at timestamptz) returns jsonb language plpgsql
set plan_cache_mode = force_custom_plan as $$
declare
  v_results jsonb;
begin
  insert into tally_idempotency (key, operation, request, created_at)
  select value ->> 'key', 'usage', value ->> 'request', p_at
  from jsonb_array_elements(p_items) with ordinality as t(value, ord)
  order by ord;

  with items as (
    select t.ord, t.value ->> 'key' as key, t.value ->> 'customerId' as customer_id, (t.value ->> 'amount')::bigint as amount,
           t.value ->> 'description' as description, t.value -> 'usage' as usage, nextval('tally_operation_seq') as op
    from (select value, ord from jsonb_array_elements(p_items) with ordinality as e(value, ord) order by ord) t
  ), customers as (
    select c.id, c.balance, c.held, c.debt, c.unlimited, greatest(c.balance - c.held + c.overdraft_limit, 0) as available
    from tally_customers c
    where c.id = any (p_customers)
  ), ordered as (
    select i.*, c.balance, c.held, c.debt, c.unlimited, c.available,
           coalesce(sum(i.amount) over (partition by i.customer_id order by i.ord rows between unbounded preceding and 1 preceding), 0)::bigint as before
    from items i join customers c on c.id = i.customer_id
  ), charged as (
    select o.*,
           case when o.unlimited then 0 else least(o.before, o.available) end as t_from,
           case when o.unlimited then o.amount else greatest(least(o.amount, o.available - o.before), 0) end as take
    from ordered o
  ), queue as (
    select b.id, b.customer_id, b.remaining, b.expires_at,
           coalesce(sum(b.remaining) over (partition by b.customer_id order by b.expires_at nulls last, b.id
                                           rows between unbounded preceding and 1 preceding), 0)::bigint as b_from
    from tally_buckets b
    where b.customer_id = any (p_customers) and b.live
  ), parts as (
    select ch.ord, l.id as bucket_id, l.expires_at,
           least(ch.t_from + ch.take, l.b_from + l.remaining) - greatest(ch.t_from, l.b_from) as part
    from charged ch
    join queue l on l.customer_id = ch.customer_id and l.b_from < ch.t_from + ch.take and ch.t_from < l.b_from + l.remaining
    where not ch.unlimited and ch.take > 0 and ch.balance - ch.t_from > 0
  ), drained as (
    select ord, sum(part)::bigint as drained from parts group by ord
  ), lines as (
    select p.ord, 1 as line, p.expires_at, p.bucket_id, p.part as amount, 'customer:' || ch.customer_id as from_account, -p.part as delta
    from parts p join charged ch on ch.ord = p.ord
    union all
    select ch.ord, 2, null, null, ch.take - coalesce(d.drained, 0), 'customer:' || ch.customer_id, 0
    from charged ch left join drained d on d.ord = ch.ord
    where not ch.unlimited and ch.take > coalesce(d.drained, 0)
    union all
    select ch.ord, 3, null, null, ch.amount - ch.take, 'debt:' || ch.customer_id, 0
    from charged ch
    where not ch.unlimited and ch.amount > ch.take
    union all
    select ch.ord, 0, null, null, ch.amount, 'system:unlimited', 0
    from charged ch
    where ch.unlimited
  ), written as (
    insert into tally_entries (operation_id, customer_id, kind, from_account, to_account, amount, bucket_id, bucket_delta,
                               hold_id, description, usage, created_at)
    select ch.op, ch.customer_id, 'usage', l.from_account, 'system:revenue', l.amount, l.bucket_id, l.delta,
           null, ch.description, ch.usage, p_at
    from lines l join charged ch on ch.ord = l.ord
    order by l.ord, l.line, l.expires_at nulls last, l.bucket_id
    returning operation_id, id, tally__entry_json(tally_entries) as entry
  ), buckets_drained as (
    update tally_buckets b set remaining = b.remaining - s.total
    from (select bucket_id, sum(part)::bigint as total from parts group by bucket_id) s
    where b.id = s.bucket_id
  ), customers_charged as (
    update tally_customers c set balance = c.balance - s.take, debt = c.debt + s.debt
    from (select customer_id, sum(take)::bigint as take, sum(amount - take)::bigint as debt
          from charged where not unlimited group by customer_id) s
    where c.id = s.customer_id
  ), settled as (
    select ch.*,
           case when ch.unlimited then ch.balance else ch.balance - ch.t_from - ch.take end as balance_after,
           case when ch.unlimited then ch.debt else ch.debt + ch.before + ch.amount - ch.t_from - ch.take end as debt_after
    from charged ch
  ), outboxed as (
    insert into tally_outbox (topic, payload, dedupe_key, created_at, available_at)
    select 'credits.charged',
           json_build_object('customerId', a.customer_id, 'operationId', a.op::text, 'amountMicros', a.amount::text,
                             'balanceMicros', a.balance_after::text, 'at', tally__ts(p_at))::text,
           'credits.charged:' || a.op, p_at, p_at
    from settled a
    order by a.ord
    on conflict (dedupe_key) do nothing
  ), results as (
    select a.ord, a.key, a.op,
           jsonb_build_object('operationId', a.op::text, 'entries', coalesce(e.entries, '[]'::jsonb),
                              'balance', jsonb_build_object('balanceMicros', a.balance_after::text, 'heldMicros', a.held::text,
                                                            'debtMicros', a.debt_after::text),
                              'chargedMicros', (case when a.unlimited then 0 else a.take end)::text,
                              'debtMicros', (case when a.unlimited then 0 else a.amount - a.take end)::text) as result
    from settled a
    left join (select operation_id, jsonb_agg(entry order by id) as entries from written group by operation_id) e on e.operation_id = a.op
  ), stored as (
    update tally_idempotency k set result = r.result, operation_id = r.op
    from results r
    where k.key = r.key
  )
  select to_jsonb(array_agg(jsonb_build_object('ok', true, 'result', r.result || '{"replayed": false}'::jsonb) order by r.ord))
    into v_results
  from results r;
  return v_results;
end $$;

create function tally_adjust(p_key text, p_request text, p_customer text, p_amount bigint, p_reason text, p_at timestamptz)
returns jsonb language plpgsql as $$
declare
  v_prior jsonb := tally__claim_key(p_key, 'adjust', p_request, p_at);
  c tally_customers;
  v_result jsonb;
begin
  if v_prior is not null then return v_prior; end if;
  c := tally__lock_customer(p_customer, p_at);
  if p_amount > 0 then
    v_result := tally__grant(c, 'adjustment', p_amount, null, 'system:adjustments', 'adjust', p_reason, p_at);
  else
    v_result := tally__charge(c, -p_amount, 'strict', 'adjust', 'system:adjustments', null, p_reason, null, p_at);
  end if;
  return tally__store_result(p_key, (v_result ->> 'operationId')::bigint, v_result);
end $$;

create function tally_reserve(p_key text, p_request text, p_customer text, p_amount bigint, p_expires timestamptz, p_at timestamptz)
returns jsonb language plpgsql as $$
declare
  v_prior jsonb := tally__claim_key(p_key, 'reserve', p_request, p_at);
  c tally_customers;
  h tally_holds;
  v_available bigint;
begin
  if v_prior is not null then return v_prior; end if;
  c := tally__lock_customer(p_customer, p_at);
  if not c.unlimited then
    v_available := greatest(c.balance - c.held + c.overdraft_limit, 0);
    if p_amount > v_available then
      perform tally__fail('INSUFFICIENT_CREDITS',
        'customer "' || c.id || '" has ' || v_available || ' micros available, needs ' || p_amount);
    end if;
  end if;
  insert into tally_holds (customer_id, amount, status, expires_at, created_at)
  values (c.id, p_amount, 'active', p_expires, p_at) returning * into h;
  update tally_customers set held = held + p_amount where id = c.id returning * into c;
  return tally__store_result(p_key, null, jsonb_build_object('hold', tally__hold_json(h), 'balance', tally__snapshot(c)));
end $$;

create function tally__settle_hold(p_hold bigint, p_at timestamptz, p_status text, p_captured bigint)
returns tally_holds language plpgsql as $$
declare
  h tally_holds;
  c tally_customers;
begin
  select * into h from tally_holds where id = p_hold;
  if not found then
    perform tally__fail('NOT_FOUND', 'unknown hold "' || p_hold || '"');
  end if;
  -- Customer first, then the hold: the same lock order as every other operation.
  c := tally__lock_customer(h.customer_id, p_at);
  select * into h from tally_holds where id = p_hold for update;
  if h.status = 'expired' and p_status = 'captured' then
    perform tally__fail('HOLD_EXPIRED', 'hold "' || p_hold || '" expired at ' || tally__ts(h.expires_at));
  end if;
  if h.status <> 'active' then
    perform tally__fail('HOLD_NOT_ACTIVE', 'hold "' || p_hold || '" is ' || h.status);
  end if;
  update tally_holds set status = p_status, captured = p_captured, settled_at = p_at where id = p_hold returning * into h;
  update tally_customers set held = held - h.amount where id = h.customer_id;
  return h;
end $$;

create function tally_capture(p_key text, p_request text, p_hold bigint, p_amount bigint, p_description text, p_usage jsonb, p_at timestamptz)
returns jsonb language plpgsql as $$
declare
  v_prior jsonb := tally__claim_key(p_key, 'capture', p_request, p_at);
  h tally_holds;
  c tally_customers;
  v_result jsonb;
begin
  if v_prior is not null then return v_prior; end if;
  h := tally__settle_hold(p_hold, p_at, 'captured', p_amount);
  select * into c from tally_customers where id = h.customer_id;
  v_result := tally__charge(c, p_amount, 'debt', 'capture', 'system:revenue', h.id, p_description, p_usage, p_at);
  v_result := v_result || jsonb_build_object('hold', tally__hold_json(h));
  return tally__store_result(p_key, (v_result ->> 'operationId')::bigint, v_result);
end $$;

create function tally_release(p_key text, p_request text, p_hold bigint, p_at timestamptz)
returns jsonb language plpgsql as $$
declare
  v_prior jsonb := tally__claim_key(p_key, 'release', p_request, p_at);
  h tally_holds;
  c tally_customers;
begin
  if v_prior is not null then return v_prior; end if;
  h := tally__settle_hold(p_hold, p_at, 'released', null);
  select * into c from tally_customers where id = h.customer_id;
  return tally__store_result(p_key, null, jsonb_build_object('hold', tally__hold_json(h), 'balance', tally__snapshot(c)));
end $$;

create function tally_sweep_holds(p_at timestamptz) returns integer language plpgsql as $$
declare
  v_customer text;
  v_count integer := 0;
  v_n integer;
begin
  for v_customer in select distinct customer_id from tally_holds where status = 'active' and expires_at <= p_at order by 1 loop
    select count(*) into v_n from tally_holds where customer_id = v_customer and status = 'active' and expires_at <= p_at;
    perform tally__lock_customer(v_customer, p_at, 'holds');
    v_count := v_count + v_n;
  end loop;
  return v_count;
end $$;

create function tally_expire_buckets(p_at timestamptz) returns integer language plpgsql as $$
declare
  v_customer text;
  v_count integer := 0;
  v_n integer;
begin
  for v_customer in
    select distinct customer_id from tally_buckets where live and expires_at <= p_at order by 1
  loop
    select count(*) into v_n from tally_buckets where customer_id = v_customer and live and expires_at <= p_at;
    perform tally__lock_customer(v_customer, p_at, 'buckets');
    v_count := v_count + v_n;
  end loop;
  return v_count;
end $$;

create function tally_balance(p_customer text, p_at timestamptz) returns jsonb language plpgsql stable as $$
declare
  c tally_customers;
  v_due_buckets bigint;
  v_due_holds bigint;
  v_active integer;
  v_buckets jsonb;
  v_balance bigint;
  v_held bigint;
begin
  select * into c from tally_customers where id = p_customer;
  if not found then
    perform tally__fail('NOT_FOUND', 'unknown customer "' || p_customer || '"');
  end if;
  select coalesce(sum(remaining), 0) into v_due_buckets from tally_buckets
    where customer_id = p_customer and live and expires_at <= p_at;
  select coalesce(sum(amount) filter (where expires_at <= p_at), 0), count(*) filter (where expires_at > p_at)
    into v_due_holds, v_active from tally_holds where customer_id = p_customer and status = 'active';
  select coalesce(jsonb_agg(tally__bucket_json(b) order by b.expires_at nulls last, b.id), '[]'::jsonb) into v_buckets
    from tally_buckets b where customer_id = p_customer and live and (expires_at is null or expires_at > p_at);
  v_balance := c.balance - v_due_buckets;
  v_held := c.held - v_due_holds;
  return jsonb_build_object(
    'customerId', c.id, 'tier', c.tier, 'overdraftLimitMicros', c.overdraft_limit::text, 'unlimited', c.unlimited,
    'balanceMicros', v_balance::text, 'heldMicros', v_held::text, 'debtMicros', c.debt::text,
    'availableMicros', (case when c.unlimited then 0 else greatest(v_balance - v_held + c.overdraft_limit, 0) end)::text,
    'buckets', v_buckets, 'activeHolds', v_active);
end $$;
`;
