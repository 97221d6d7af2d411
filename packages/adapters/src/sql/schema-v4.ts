// Version 4: spend caps (docs/ledger.md, "Spend caps"). Builds on version 1; never edit it once shipped.
export const schemaV4 = `
-- Tally schema, version 4: spend caps per customer, per end user (or API key) and for each end user.
-- One row per (customer, scope) holds the scope's caps and its counters for the current UTC day and
-- month. Scope '' is the customer's total, '*' the default for end users without caps of their own.
-- Counting runs only for customers with a cap (tally_customers.spend_capped), so uncapped customers
-- pay nothing for it; every check and count happens under the customer row lock, in the transaction
-- of the hold or charge it guards.

alter table tally_customers add column spend_capped boolean not null default false;
alter table tally_holds add column end_user_id text;

create table tally_spend_caps (
  customer_id text not null references tally_customers (id),
  scope text not null,
  daily bigint check (daily > 0),
  monthly bigint check (monthly > 0),
  -- False for a row that only counts an end user under the '*' default.
  explicit boolean not null default false,
  day_start timestamptz not null default '-infinity',
  day_used bigint not null default 0,
  month_start timestamptz not null default '-infinity',
  month_used bigint not null default 0,
  updated_at timestamptz not null,
  primary key (customer_id, scope)
);

create function tally__cap_json(c tally_customers, r tally_spend_caps, p_at timestamptz) returns jsonb language sql stable as $$
  select jsonb_build_object(
    'customerId', c.id, 'scope', r.scope, 'dailyMicros', r.daily::text, 'monthlyMicros', r.monthly::text,
    'usedTodayMicros', (case when r.day_start = date_trunc('day', p_at, 'UTC') then r.day_used else 0 end)::text,
    'usedThisMonthMicros', (case when r.month_start = date_trunc('month', p_at, 'UTC') then r.month_used else 0 end)::text,
    'heldMicros', (case r.scope when '' then c.held when '*' then 0
                   else coalesce((select sum(h.amount) from tally_holds h
                                  where h.customer_id = c.id and h.status = 'active' and h.end_user_id = r.scope), 0) end)::text,
    'updatedAt', tally__ts(r.updated_at))
$$;

create function tally__cap_fail_if(p_who text, p_cap bigint, p_period text, p_used bigint, p_held bigint, p_amount bigint)
returns void language plpgsql as $$
begin
  if p_cap is not null and p_used + p_held + p_amount > p_cap then
    perform tally__fail('SPEND_CAP_EXCEEDED', p_who || ' would pass its ' || p_period || ' cap of ' || p_cap
      || ' micros (used ' || p_used || ', held ' || p_held || ', requested ' || p_amount || ')');
  end if;
end $$;

-- Refuses what would take the customer's total, or the end user, past a daily or monthly cap.
-- Active holds count against both windows until they settle.
create function tally__check_caps(c tally_customers, p_end_user text, p_amount bigint, p_at timestamptz)
returns void language plpgsql as $$
declare
  v_day timestamptz;
  v_month timestamptz;
  r tally_spend_caps;
  lim tally_spend_caps;
  v_who text;
  v_held bigint;
begin
  if not c.spend_capped then return; end if;
  v_day := date_trunc('day', p_at, 'UTC');
  v_month := date_trunc('month', p_at, 'UTC');
  select * into r from tally_spend_caps where customer_id = c.id and scope = '' and explicit;
  if found then
    v_who := 'customer "' || c.id || '"';
    perform tally__cap_fail_if(v_who, r.daily, 'daily', case when r.day_start = v_day then r.day_used else 0 end, c.held, p_amount);
    perform tally__cap_fail_if(v_who, r.monthly, 'monthly', case when r.month_start = v_month then r.month_used else 0 end, c.held, p_amount);
  end if;
  if p_end_user is null then return; end if;
  select * into r from tally_spend_caps where customer_id = c.id and scope = p_end_user;
  if found and r.explicit then
    lim := r;
  else
    select * into lim from tally_spend_caps where customer_id = c.id and scope = '*' and explicit;
    if not found then return; end if;
  end if;
  select coalesce(sum(amount), 0) into v_held from tally_holds
  where customer_id = c.id and status = 'active' and end_user_id = p_end_user;
  v_who := 'end user "' || p_end_user || '" of customer "' || c.id || '"';
  perform tally__cap_fail_if(v_who, lim.daily, 'daily', case when r.day_start = v_day then r.day_used else 0 end, v_held, p_amount);
  perform tally__cap_fail_if(v_who, lim.monthly, 'monthly', case when r.month_start = v_month then r.month_used else 0 end, v_held, p_amount);
end $$;

-- Adds a charge to the counters of the customer's total and of the end user. A newer window starts
-- from zero; a charge dated in a window the row has already left counts in neither.
create function tally__count_caps(c tally_customers, p_end_user text, p_amount bigint, p_at timestamptz)
returns void language plpgsql as $$
declare
  v_day timestamptz;
  v_month timestamptz;
begin
  if not c.spend_capped or p_amount <= 0 then return; end if;
  v_day := date_trunc('day', p_at, 'UTC');
  v_month := date_trunc('month', p_at, 'UTC');
  insert into tally_spend_caps as s (customer_id, scope, day_start, day_used, month_start, month_used, updated_at)
  select c.id, k, v_day, p_amount, v_month, p_amount, p_at
  from unnest(case when p_end_user is null then array[''] else array['', p_end_user] end) k
  on conflict (customer_id, scope) do update set
    day_used = case when v_day > s.day_start then p_amount when v_day = s.day_start then s.day_used + p_amount else s.day_used end,
    day_start = greatest(s.day_start, v_day),
    month_used = case when v_month > s.month_start then p_amount when v_month = s.month_start then s.month_used + p_amount else s.month_used end,
    month_start = greatest(s.month_start, v_month);
end $$;

create function tally_set_spend_cap(p_customer text, p_scope text, p_daily bigint, p_monthly bigint, p_at timestamptz)
returns jsonb language plpgsql as $$
declare
  c tally_customers;
  r tally_spend_caps;
begin
  select * into c from tally_customers where id = p_customer for update;
  if not found then
    perform tally__fail('NOT_FOUND', 'unknown customer "' || p_customer || '"');
  end if;
  insert into tally_spend_caps as s (customer_id, scope, daily, monthly, explicit, updated_at)
  values (p_customer, p_scope, p_daily, p_monthly, p_daily is not null or p_monthly is not null, p_at)
  on conflict (customer_id, scope) do update
    set daily = excluded.daily, monthly = excluded.monthly, explicit = excluded.explicit, updated_at = excluded.updated_at
  returning * into r;
  update tally_customers set spend_capped = exists (select 1 from tally_spend_caps where customer_id = p_customer and explicit)
  where id = p_customer returning * into c;
  return tally__cap_json(c, r, p_at);
end $$;

create function tally_list_spend_caps(p_customer text, p_at timestamptz) returns jsonb language plpgsql stable as $$
declare
  c tally_customers;
begin
  select * into c from tally_customers where id = p_customer;
  if not found then
    perform tally__fail('NOT_FOUND', 'unknown customer "' || p_customer || '"');
  end if;
  return coalesce((select jsonb_agg(tally__cap_json(c, r, p_at) order by r.scope collate "C")
                   from tally_spend_caps r where r.customer_id = p_customer and (r.explicit or r.scope <> '*')), '[]'::jsonb);
end $$;

-- The operations that spend, reserve or capture now take the end user and count it.

drop function tally_reserve(text, text, text, bigint, timestamptz, timestamptz);
create function tally_reserve(p_key text, p_request text, p_customer text, p_end_user text, p_amount bigint,
                              p_expires timestamptz, p_at timestamptz)
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
  -- Guarded here, not only inside: an uncapped customer (the common case) pays no function call.
  if c.spend_capped then
    perform tally__check_caps(c, p_end_user, p_amount, p_at);
  end if;
  insert into tally_holds (customer_id, amount, status, expires_at, created_at, end_user_id)
  values (c.id, p_amount, 'active', p_expires, p_at, p_end_user) returning * into h;
  update tally_customers set held = held + p_amount where id = c.id returning * into c;
  return tally__store_result(p_key, null, jsonb_build_object('hold', tally__hold_json(h), 'balance', tally__snapshot(c)));
end $$;

drop function tally_charge(text, text, text, text, bigint, text, jsonb, timestamptz);
create function tally_charge(p_operation text, p_key text, p_request text, p_customer text, p_end_user text, p_amount bigint,
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
  -- After the credit check, as in the memory store; a refusal rolls the charge back with it.
  -- Usage already happened: a cap never refuses it, but it counts.
  if c.spend_capped then
    if p_operation = 'spend' then
      perform tally__check_caps(c, p_end_user, p_amount, p_at);
    end if;
    perform tally__count_caps(c, p_end_user, p_amount, p_at);
  end if;
  return tally__store_result(p_key, (v_result ->> 'operationId')::bigint, v_result);
end $$;

create or replace function tally_capture(p_key text, p_request text, p_hold bigint, p_amount bigint, p_description text,
                                         p_usage jsonb, p_at timestamptz)
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
  if c.spend_capped then
    perform tally__count_caps(c, h.end_user_id, p_amount, p_at);
  end if;
  v_result := v_result || jsonb_build_object('hold', tally__hold_json(h));
  return tally__store_result(p_key, (v_result ->> 'operationId')::bigint, v_result);
end $$;

-- Batches: a capped customer's items take the item-by-item path, which counts them.
create or replace function tally_usage_batch(p_items jsonb, p_at timestamptz) returns jsonb language plpgsql as $$
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
     and not exists (select 1 from tally_customers where id = any (v_customers) and spend_capped)
  then
    return tally__usage_batch_set(p_items, v_customers, p_at);
  end if;
  return tally__usage_batch_items(p_items, p_at);
end $$;

create or replace function tally__usage_batch_items(p_items jsonb, p_at timestamptz) returns jsonb language plpgsql as $$
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
    perform tally__count_caps(c, item ->> 'endUserId', (item ->> 'amount')::bigint, p_at);
    v_results := array_append(v_results, jsonb_build_object('ok', true,
      'result', tally__store_result(item ->> 'key', (v_result ->> 'operationId')::bigint, v_result)));
  end loop;
  return to_jsonb(v_results);
end $$;
`;
