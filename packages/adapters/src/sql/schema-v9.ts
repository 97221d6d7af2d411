// Version 9: each item of a usage batch at its own time (docs/ledger.md, `recordUsage`'s `at`).
// Replaces the three batch functions of versions 1 and 4 (same signatures). Never edit it once shipped.
//
// Before, the whole batch ran at one time (`p_at`, the batch's latest), so a batch of calls spread over
// hours stamped them all with its end. Now every item's json carries `at` and the item runs at it, as
// a `tally_charge` call with that `at` would: its entries, key, outbox row and `credits.charged` time,
// the lazy expiry of the customer's due buckets and holds, and the spend-cap windows it counts in. An
// item without `at` (a caller of the older store code) runs at `p_at`, which stays the batch's latest.
// An item without usage details now writes SQL null in `usage`, as `tally_charge` does, where versions
// 1 and 4 wrote the json value null.
//
// The set-based path is exact when nothing of a customer's falls due between its first item (in batch
// order) and its latest one: what fell due before the first item is expired first, at that item's
// time, as the first item would expire it item by item. A bucket or hold that runs out between two
// items of one customer sends the batch item by item, which expires it between them, like the memory
// store. (Before, anything due by the batch's time sent it item by item; with a database trigger per
// statement, that path costs many times the set-based one.)
export const schemaV9 = `
-- Tally schema, version 9: usage batch items at their own times (see schema-v9.ts).

create or replace function tally_usage_batch(p_items jsonb, p_at timestamptz) returns jsonb language plpgsql as $$
declare
  v_customers text[];
  v_first timestamptz[];
  v_latest timestamptz[];
  v_keys text[];
  v_locked integer;
  v_between boolean;
  v_before text[];
  c record;
begin
  -- Per customer (in id order, the lock order): the time of its first item, in batch order, and its latest.
  select array_agg(customer_id order by customer_id), array_agg(first_at order by customer_id), array_agg(latest order by customer_id)
    into v_customers, v_first, v_latest
  from (select value ->> 'customerId' as customer_id,
               (array_agg(coalesce((value ->> 'at')::timestamptz, p_at) order by ord))[1] as first_at,
               max(coalesce((value ->> 'at')::timestamptz, p_at)) as latest
        from jsonb_array_elements(p_items) with ordinality as t(value, ord) group by 1) items;
  select array_agg(value ->> 'key') into v_keys from jsonb_array_elements(p_items);
  select count(*) into v_locked
  from (select 1 from tally_customers where id = any (v_customers) order by id for update) locked;
  -- What of a customer's falls due by its latest item: before its first item, or between its items.
  select coalesce(bool_or(due.at > u.first_at), false), array_agg(distinct u.id) filter (where due.at <= u.first_at)
    into v_between, v_before
  from (select customer_id, expires_at as at from tally_buckets
        where live and expires_at <= (select max(l) from unnest(v_latest) l) and customer_id = any (v_customers)
        union all
        select customer_id, expires_at from tally_holds
        where status = 'active' and expires_at <= (select max(l) from unnest(v_latest) l) and customer_id = any (v_customers)) due
  join unnest(v_customers, v_first, v_latest) u(id, first_at, latest) on u.id = due.customer_id and due.at <= u.latest;
  if cardinality(v_keys) >= 4
     and v_locked = cardinality(v_customers)
     and cardinality(v_keys) = (select count(distinct k) from unnest(v_keys) k)
     and not exists (select 1 from tally_idempotency where key = any (v_keys))
     and not exists (select 1 from tally_customers where id = any (v_customers) and spend_capped)
     and not v_between
  then
    -- What fell due before a customer's first item expires at that item's time, as item by item.
    for c in select u.id, u.first_at from unnest(v_customers, v_first) u(id, first_at) where u.id = any (v_before) loop
      perform tally__lock_customer(c.id, c.first_at);
    end loop;
    return tally__usage_batch_set(p_items, v_customers, p_at);
  end if;
  return tally__usage_batch_items(p_items, p_at);
end $$;

create or replace function tally__usage_batch_items(p_items jsonb, p_at timestamptz) returns jsonb language plpgsql as $$
declare
  item jsonb;
  r tally_idempotency;
  c tally_customers;
  v_at timestamptz;
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
    v_at := coalesce((item ->> 'at')::timestamptz, p_at);
    insert into tally_idempotency (key, operation, request, created_at) values (item ->> 'key', 'usage', item ->> 'request', v_at);
    c := tally__lock_customer(item ->> 'customerId', v_at);
    v_result := tally__charge(c, (item ->> 'amount')::bigint, 'debt', 'usage', 'system:revenue', null,
                              item ->> 'description', nullif(item -> 'usage', 'null'), v_at);
    perform tally__count_caps(c, item ->> 'endUserId', (item ->> 'amount')::bigint, v_at);
    v_results := array_append(v_results, jsonb_build_object('ok', true,
      'result', tally__store_result(item ->> 'key', (v_result ->> 'operationId')::bigint, v_result)));
  end loop;
  return to_jsonb(v_results);
end $$;

-- As in version 1, with each item's own time on its key, entries and outbox row.
create or replace function tally__usage_batch_set(p_items jsonb, p_customers text[], p_at timestamptz) returns jsonb language plpgsql
set plan_cache_mode = force_custom_plan as $$
declare
  v_results jsonb;
begin
  insert into tally_idempotency (key, operation, request, created_at)
  select value ->> 'key', 'usage', value ->> 'request', coalesce((value ->> 'at')::timestamptz, p_at)
  from jsonb_array_elements(p_items) with ordinality as t(value, ord)
  order by ord;

  with items as (
    select t.ord, t.value ->> 'key' as key, t.value ->> 'customerId' as customer_id, (t.value ->> 'amount')::bigint as amount,
           t.value ->> 'description' as description, nullif(t.value -> 'usage', 'null') as usage,
           coalesce((t.value ->> 'at')::timestamptz, p_at) as at, nextval('tally_operation_seq') as op
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
           null, ch.description, ch.usage, ch.at
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
                             'balanceMicros', a.balance_after::text, 'at', tally__ts(a.at))::text,
           'credits.charged:' || a.op, a.at, a.at
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
`;
