// Version 8: rollups for the journal metrics (docs/analytics.md: usage, margin, utilization,
// top-customers), folded from the journal and the call log, and backfilled from what is already
// stored. Never edit it once shipped.
//
// Writes stay cheap: a statement that writes entries (or logged calls) only queues their ids in
// tally_rollup_pending, from a statement-level trigger with a transition table: one insert per
// statement, however many rows. Queued rows are folded into the rollups set-based (`tally__fold`) by
// every 64th queuing statement and by any statement of 64 rows or more (a usage batch folds itself),
// under a transaction-level advisory lock: a writer that finds it taken leaves the folding to the
// next one and never waits, and only a folder writes the rollups, so they need no other locking.
// Until folded, queued rows are read raw by the metric queries (`tally__pending_activity`,
// `tally__pending_use`), so the rollups plus the queue always hold everything committed, and a fold
// changes both in one transaction. Folding needs each statement to see what the previous folder
// committed, so only read-committed transactions (the store's) fold; others only queue.
//
// What a call is lives in one place per source: `tally__charge_activity` turns an operation's charge
// entries into an activity line, `tally__logged_activity` a call-log row; `tally__entry_activity`
// and `tally__entry_use` read lines from a set of entries (a fold's, the queue's, a range's), and
// `tally__tiered` adds the tier at each call. An operation's entries may come in several statements
// (drained buckets, then debt): its call is counted with its first entry, the first of the operation
// among the customer's entries (a time range always holds all of an operation's entries).
// Hours and days are integers since 1970-01-01 UTC; every time before 1970 is put in hour (and day)
// -1, which no metric reads (metric ranges start in 1970).
//
// The rollups:
// - tally_usage_hours (hour, model, key source, free) and tally_tier_hours (hour, tier at the call):
//   calls, tokens, credits, provider cost; tally_usage_days and tally_tier_days the same by day. Usage
//   reads a range's whole hours from the hours (the heatmap needs them), margin its whole days from
//   the days and the other whole hours from the hours; both read the partial hours at the edges from
//   the raw rows (`tally__activity_between`).
// - tally_customer_activity: per customer, one row per hour it was active, holding its running totals
//   (calls, credits of calls, platform cost, provider cost, credits of all charges) through the end of
//   that hour, valid until its next active hour (`hours`); the latest row of each customer, valid from
//   its hour on, is kept apart in tally_customer_activity_latest, where another call in the same hour
//   is an update that touches no index. A customer's totals over hours [a, b) are the row holding b - 1
//   minus the row holding a - 1: a stab of the GiST index plus a pass over the latest rows returns one
//   row per customer, so top-customers and margin-by-customer read about two rows per customer
//   whatever the range, and nothing for days a customer was idle.
// - tally_allowances: each allowance bucket (a grant from system:grants) with its customer's tier at
//   the grant; tally_allowance_days (grant day, tier, day) and tally_allowance_hours (hour, grant day,
//   tier): what was granted, consumed and expired, for utilization. Grants in the partial days at a
//   range's edges are read bucket by bucket (tally_entries_draws).
//
// The tier at a call or a grant is the one when it is folded. A subscription record saved in the past
// or a change of the customer record's tier changes what the tier was at some times: the triggers
// then take the folding lock (waiting for a fold under way to commit) and move the folded calls and
// grants of those times to the tier they were really on (`tally__retier`); what is still queued will
// be folded with the new tier. Holding the lock to the end of the transaction keeps any fold from
// reading the history before the change commits.
//
// The folding functions apply a few hundred lines to tables of millions of rows, always through
// their indexes: they keep one generic plan per session, use nested loops only and never JIT-compile
// (a cost inflated by the disabled plan types would otherwise trigger compiling, which takes longer
// than the work). A customer whose new calls all fall in one hour at or after its latest takes the
// short path (close the latest row, move it); others rewrite their rows from the earliest new hour.
//
// The explanations live here rather than in the SQL text, which ships in the bundle.
export const schemaV8 = `
-- Tally schema, version 8: rollups for the journal metrics (see schema-v8.ts).

create index tally_subscription_history_state on tally_subscription_history (customer_id, updated_at, version);
create index tally_entries_draws on tally_entries (bucket_id, created_at) include (kind, bucket_delta) where bucket_delta < 0;

create function tally__hour(p timestamptz) returns integer language sql stable as $$
  select greatest(floor(extract(epoch from p) / 3600), -1)::integer
$$;

create function tally__day(p timestamptz) returns integer language sql stable as $$
  select greatest(floor(extract(epoch from p) / 86400), -1)::integer
$$;

create function tally__hour_start(p integer) returns timestamptz language sql stable as $$
  select timestamptz '1970-01-01 00:00:00+00' + make_interval(hours => p)
$$;

create function tally__tier_at(p_customer text, p_at timestamptz) returns text language plpgsql stable as $$
begin
  return coalesce(
    (select h.tier from tally_subscription_history h
     where h.customer_id = p_customer and h.updated_at <= p_at
     order by h.updated_at desc, h.version desc limit 1),
    (select c.tier from tally_customers c where c.id = p_customer));
end $$;

create type tally__activity as (
  at timestamptz,
  customer_id text,
  tier text,
  model text,
  key_source text,
  free boolean,
  calls integer,
  tokens numeric,
  call_credits numeric,
  cost numeric,
  managed_cost numeric,
  charge_credits numeric
);

create type tally__allowance_use as (
  granted_at timestamptz,
  tier text,
  at timestamptz,
  granted numeric,
  consumed numeric,
  expired numeric
);

create table tally_rollup_pending (
  id bigint generated always as identity primary key,
  source text not null check (source in ('entries', 'calls')),
  ids bigint[] not null
);

create table tally_usage_hours (
  hour integer not null,
  model text not null,
  key_source text not null,
  free boolean not null,
  calls bigint not null,
  tokens numeric not null,
  credits numeric not null,
  cost numeric not null,
  primary key (hour, model, key_source, free)
);

create table tally_usage_days (
  day integer not null,
  model text not null,
  key_source text not null,
  free boolean not null,
  calls bigint not null,
  tokens numeric not null,
  credits numeric not null,
  cost numeric not null,
  primary key (day, model, key_source, free)
);

create table tally_tier_days (
  day integer not null,
  tier text not null,
  calls bigint not null,
  credits numeric not null,
  managed_cost numeric not null,
  primary key (day, tier)
);

create table tally_tier_hours (
  hour integer not null,
  tier text not null,
  calls bigint not null,
  credits numeric not null,
  managed_cost numeric not null,
  primary key (hour, tier)
);

create table tally_customer_activity (
  customer_id text not null,
  hour integer not null,
  next_hour integer not null check (next_hour > hour),
  hours int4range generated always as (int4range(hour, next_hour)) stored,
  calls bigint not null,
  call_credits numeric not null,
  managed_cost numeric not null,
  cost numeric not null,
  charge_credits numeric not null,
  primary key (customer_id, hour)
);
create index tally_customer_activity_hours on tally_customer_activity using gist (hours);

create table tally_customer_activity_latest (
  customer_id text primary key,
  hour integer not null,
  calls bigint not null,
  call_credits numeric not null,
  managed_cost numeric not null,
  cost numeric not null,
  charge_credits numeric not null
);

create view tally_customer_activity_all as
select customer_id, hour, next_hour, calls, call_credits, managed_cost, cost, charge_credits from tally_customer_activity
union all
select customer_id, hour, null::integer, calls, call_credits, managed_cost, cost, charge_credits from tally_customer_activity_latest;

create table tally_allowances (
  bucket_id bigint primary key,
  customer_id text not null,
  granted_at timestamptz not null,
  tier text not null,
  granted bigint not null
);
create index tally_allowances_granted on tally_allowances (granted_at);
create index tally_allowances_customer on tally_allowances (customer_id, granted_at);

create table tally_allowance_days (
  grant_day integer not null,
  day integer not null,
  tier text not null,
  granted numeric not null,
  consumed numeric not null,
  expired numeric not null,
  primary key (grant_day, day, tier)
);

create table tally_allowance_hours (
  hour integer not null,
  grant_day integer not null,
  tier text not null,
  consumed numeric not null,
  expired numeric not null,
  primary key (hour, grant_day, tier)
);

-- ---- What a call is

create function tally__charge_activity(p_at timestamptz, p_customer text, p_amount numeric, p_usage jsonb, p_counted boolean)
returns tally__activity language sql immutable as $$
  select row(
    p_at, p_customer, null,
    p_usage ->> 'model',
    case when p_usage is null then null when p_usage ->> 'keySource' = 'byok' then 'byok' else 'managed' end,
    false,
    case when p_counted then 1 else 0 end,
    case when p_counted then (p_usage ->> 'inputTokens')::numeric + (p_usage ->> 'outputTokens')::numeric else 0 end,
    case when p_usage is not null then p_amount else 0 end,
    case when p_counted then (p_usage ->> 'providerCostNanoUsd')::numeric else 0 end,
    case when p_counted and p_usage ->> 'keySource' is distinct from 'byok' then (p_usage ->> 'providerCostNanoUsd')::numeric else 0 end,
    p_amount)::tally__activity
$$;

create function tally__logged_activity(u tally_uncharged_calls) returns tally__activity language sql immutable as $$
  select row(
    u.at, u.customer_id, null, u.model, u.key_source, u.free, 1,
    u.input_tokens::numeric + u.output_tokens, 0,
    u.provider_cost_nano_usd, case when u.key_source = 'byok' then 0 else u.provider_cost_nano_usd end, 0)::tally__activity
$$;

create function tally__entry_activity(p_entries tally_entries[], p_whole_operations boolean default false)
returns setof tally__activity language sql stable as $$
  select a.*
  from (select e.operation_id, e.customer_id, e.created_at as at, min(e.id) as first_id, sum(e.amount)::numeric as amount,
               (array_agg(e.usage) filter (where e.usage is not null))[1] as usage
        from unnest(p_entries) e
        where e.kind in ('spend', 'usage', 'capture')
        group by e.operation_id, e.customer_id, e.created_at) o
  cross join lateral (
    select o.usage is not null
           and (p_whole_operations
                or (select q.operation_id from tally_entries q
                    where q.customer_id = o.customer_id and q.id < o.first_id
                    order by q.id desc limit 1) is distinct from o.operation_id) as counted) f
  cross join lateral tally__charge_activity(o.at, o.customer_id, o.amount, o.usage, f.counted) a
$$;

create function tally__tiered(p_activity tally__activity[]) returns setof tally__activity language sql stable as $$
  select a.at, a.customer_id, case when a.model is not null then coalesce(h.tier, c.tier) end, a.model, a.key_source, a.free,
         a.calls, a.tokens, a.call_credits, a.cost, a.managed_cost, a.charge_credits
  from unnest(p_activity) a
  join tally_customers c on c.id = a.customer_id
  left join lateral (
    select h.tier from tally_subscription_history h
    where a.model is not null and h.customer_id = a.customer_id and h.updated_at <= a.at
    order by h.updated_at desc, h.version desc
    limit 1) h on true
$$;

create function tally__entry_grants(p_entries tally_entries[])
returns table (bucket_id bigint, customer_id text, granted_at timestamptz, tier text, granted bigint) language sql stable as $$
  select g.bucket_id, g.customer_id, g.created_at, tally__tier_at(g.customer_id, g.created_at), g.amount
  from unnest(p_entries) g
  where g.kind = 'grant' and g.from_account = 'system:grants'
$$;

create function tally__entry_use(p_entries tally_entries[]) returns setof tally__allowance_use language sql stable as $$
  with grants as (
    select * from tally__entry_grants(p_entries)
  )
  select row(g.granted_at, g.tier, g.granted_at, g.granted, 0, 0)::tally__allowance_use
  from grants g
  union all
  select row(a.granted_at, a.tier, d.created_at, 0,
             case when d.kind = 'expire' then 0 else -d.bucket_delta end,
             case when d.kind = 'expire' then -d.bucket_delta else 0 end)::tally__allowance_use
  from unnest(p_entries) d
  cross join lateral (
    select g.granted_at, g.tier from grants g where g.bucket_id = d.bucket_id
    union all
    select b.granted_at, b.tier from tally_allowances b where b.bucket_id = d.bucket_id
    limit 1) a
  where d.bucket_delta < 0 and d.kind in ('spend', 'usage', 'capture', 'expire')
$$;

create function tally__activity_between(p_customer text, p_from timestamptz, p_to timestamptz, p_folded_only boolean default false)
returns setof tally__activity language sql stable as $$
  with queued as (
    select p.source, i from tally_rollup_pending p cross join unnest(p.ids) i where p_folded_only
  )
  select a.*
  from tally__entry_activity(array(
    select e from tally_entries e
    where e.created_at >= p_from and e.created_at < p_to and e.kind in ('spend', 'usage', 'capture')
      and (p_customer is null or e.customer_id = p_customer)
      and not exists (select 1 from queued q where q.source = 'entries' and q.i = e.id)), true) a
  union all
  select l.*
  from tally_uncharged_calls u
  cross join lateral tally__logged_activity(u) l
  where u.at >= p_from and u.at < p_to and (p_customer is null or u.customer_id = p_customer)
    and not exists (select 1 from queued q where q.source = 'calls' and q.i = u.id)
$$;

-- ---- The queue of what is not folded yet

create function tally__pending_entries() returns tally_entries[] language sql stable as $$
  select array(select e from tally_rollup_pending p cross join unnest(p.ids) i join tally_entries e on e.id = i
               where p.source = 'entries' order by e.id)
$$;

create function tally__pending_activity() returns setof tally__activity language sql stable as $$
  select * from tally__entry_activity(tally__pending_entries())
  union all
  select l.*
  from tally_rollup_pending p
  cross join unnest(p.ids) i
  join tally_uncharged_calls u on u.id = i
  cross join lateral tally__logged_activity(u) l
  where p.source = 'calls'
$$;

create function tally__pending_use() returns setof tally__allowance_use language sql stable as $$
  select * from tally__entry_use(tally__pending_entries())
$$;

create function tally__all_allowances()
returns table (bucket_id bigint, customer_id text, granted_at timestamptz, tier text, granted bigint) language sql stable as $$
  select a.bucket_id, a.customer_id, a.granted_at, a.tier, a.granted from tally_allowances a
  union all
  select * from tally__entry_grants(tally__pending_entries())
$$;

-- ---- Folding

create function tally__add_rollups(p_activity tally__activity[], p_use tally__allowance_use[]) returns void language plpgsql
set plan_cache_mode = force_generic_plan set enable_hashjoin = off set enable_mergejoin = off set enable_seqscan = off set jit = off as $$
begin
  with usage_added as (
    insert into tally_usage_hours as r (hour, model, key_source, free, calls, tokens, credits, cost)
    select tally__hour(a.at), a.model, a.key_source, a.free, sum(a.calls), sum(a.tokens), sum(a.call_credits), sum(a.cost)
    from unnest(p_activity) a
    where a.model is not null
    group by 1, 2, 3, 4
    on conflict (hour, model, key_source, free) do update
    set calls = r.calls + excluded.calls, tokens = r.tokens + excluded.tokens, credits = r.credits + excluded.credits,
        cost = r.cost + excluded.cost
  ), usage_days_added as (
    insert into tally_usage_days as r (day, model, key_source, free, calls, tokens, credits, cost)
    select tally__day(a.at), a.model, a.key_source, a.free, sum(a.calls), sum(a.tokens), sum(a.call_credits), sum(a.cost)
    from unnest(p_activity) a
    where a.model is not null
    group by 1, 2, 3, 4
    on conflict (day, model, key_source, free) do update
    set calls = r.calls + excluded.calls, tokens = r.tokens + excluded.tokens, credits = r.credits + excluded.credits,
        cost = r.cost + excluded.cost
  ), tier_days_added as (
    insert into tally_tier_days as r (day, tier, calls, credits, managed_cost)
    select tally__day(a.at), a.tier, sum(a.calls), sum(a.call_credits), sum(a.managed_cost)
    from unnest(p_activity) a
    where a.tier is not null
    group by 1, 2
    on conflict (day, tier) do update
    set calls = r.calls + excluded.calls, credits = r.credits + excluded.credits, managed_cost = r.managed_cost + excluded.managed_cost
  ), tier_added as (
    insert into tally_tier_hours as r (hour, tier, calls, credits, managed_cost)
    select tally__hour(a.at), a.tier, sum(a.calls), sum(a.call_credits), sum(a.managed_cost)
    from unnest(p_activity) a
    where a.tier is not null
    group by 1, 2
    on conflict (hour, tier) do update
    set calls = r.calls + excluded.calls, credits = r.credits + excluded.credits, managed_cost = r.managed_cost + excluded.managed_cost
  ), days_added as (
    insert into tally_allowance_days as r (grant_day, day, tier, granted, consumed, expired)
    select tally__day(a.granted_at), tally__day(a.at), a.tier, sum(a.granted), sum(a.consumed), sum(a.expired)
    from unnest(p_use) a
    group by 1, 2, 3
    on conflict (grant_day, day, tier) do update
    set granted = r.granted + excluded.granted, consumed = r.consumed + excluded.consumed, expired = r.expired + excluded.expired
  )
  insert into tally_allowance_hours as r (hour, grant_day, tier, consumed, expired)
  select tally__hour(a.at), tally__day(a.granted_at), a.tier, sum(a.consumed), sum(a.expired)
  from unnest(p_use) a
  where a.consumed <> 0 or a.expired <> 0
  group by 1, 2, 3
  on conflict (hour, grant_day, tier) do update
  set consumed = r.consumed + excluded.consumed, expired = r.expired + excluded.expired;
end $$;

create function tally__add_customer_activity(p_activity tally__activity[]) returns void language plpgsql
set plan_cache_mode = force_generic_plan set enable_hashjoin = off set enable_mergejoin = off set enable_seqscan = off set jit = off as $$
declare
  v_done text[];
begin
  -- Most customers come with one hour at or after their latest: their latest row moves (or adds) to
  -- that hour, the one it leaves is closed.
  with d as (
    select a.customer_id, tally__hour(a.at) as hour, sum(a.calls)::bigint as calls, sum(a.call_credits) as call_credits,
           sum(a.managed_cost) as managed_cost, sum(a.cost) as cost, sum(a.charge_credits) as charge_credits,
           count(*) over (partition by a.customer_id collate "C") as hours
    from unnest(p_activity) a
    group by 1, 2
  ), simple as (
    select d.*, l.hour as l_hour, l.calls as l_calls, l.call_credits as l_call_credits, l.managed_cost as l_managed_cost,
           l.cost as l_cost, l.charge_credits as l_charge_credits
    from d
    left join tally_customer_activity_latest l on l.customer_id = d.customer_id
    where d.hours = 1 and (l.hour is null or l.hour <= d.hour)
  ), closed as (
    insert into tally_customer_activity (customer_id, hour, next_hour, calls, call_credits, managed_cost, cost, charge_credits)
    select customer_id, l_hour, hour, l_calls, l_call_credits, l_managed_cost, l_cost, l_charge_credits from simple where l_hour < hour
  ), moved as (
    insert into tally_customer_activity_latest as s (customer_id, hour, calls, call_credits, managed_cost, cost, charge_credits)
    select customer_id, hour, coalesce(l_calls, 0) + calls, coalesce(l_call_credits, 0) + call_credits,
           coalesce(l_managed_cost, 0) + managed_cost, coalesce(l_cost, 0) + cost, coalesce(l_charge_credits, 0) + charge_credits
    from simple
    on conflict (customer_id) do update
    set hour = excluded.hour, calls = excluded.calls, call_credits = excluded.call_credits, managed_cost = excluded.managed_cost,
        cost = excluded.cost, charge_credits = excluded.charge_credits
    returning customer_id
  )
  select coalesce(array_agg(customer_id), '{}') into v_done from moved;
  if cardinality(v_done) = cardinality(array(select distinct a.customer_id from unnest(p_activity) a)) then
    return;
  end if;

  -- The others (several hours, or hours before their latest): every row from the one holding their
  -- earliest new hour on is rewritten.
  with d as (
    select a.customer_id, tally__hour(a.at) as hour, sum(a.calls)::bigint as calls,
           sum(a.call_credits) as call_credits, sum(a.managed_cost) as managed_cost, sum(a.cost) as cost,
           sum(a.charge_credits) as charge_credits
    from unnest(p_activity) a
    where a.customer_id <> all (v_done)
    group by 1, 2
  ), earliest as (
    select customer_id, min(hour) as hour from d group by 1
  ), held as (
    -- A latest row at or before the earliest new hour is the only row that changes.
    select l.customer_id, l.hour, l.calls, l.call_credits, l.managed_cost, l.cost, l.charge_credits
    from earliest f
    join tally_customer_activity_latest l on l.customer_id = f.customer_id and l.hour <= f.hour
    union all
    -- Else the row holding the earliest new hour and every row after it.
    select s.customer_id, s.hour, s.calls, s.call_credits, s.managed_cost, s.cost, s.charge_credits
    from earliest f
    join tally_customer_activity_latest l on l.customer_id = f.customer_id and l.hour > f.hour
    cross join lateral (
      (select * from tally_customer_activity_all h where h.customer_id = f.customer_id and h.hour <= f.hour order by h.hour desc limit 1)
      union all
      (select * from tally_customer_activity_all h where h.customer_id = f.customer_id and h.hour > f.hour)
    ) s
  ), points as (
    select customer_id, hour, true as stored, calls as s_calls, call_credits as s_call_credits, managed_cost as s_managed_cost,
           cost as s_cost, charge_credits as s_charge_credits,
           0 as d_calls, 0 as d_call_credits, 0 as d_managed_cost, 0 as d_cost, 0 as d_charge_credits
    from held
    union all
    select customer_id, hour, false, null, null, null, null, null, calls, call_credits, managed_cost, cost, charge_credits from d
  ), merged as (
    -- Customer ids compare as bytes from here on: the windows below sort by them.
    select customer_id collate "C" as customer_id, hour, bool_or(stored) as stored,
           max(s_calls) as s_calls, max(s_call_credits) as s_call_credits, max(s_managed_cost) as s_managed_cost, max(s_cost) as s_cost,
           max(s_charge_credits) as s_charge_credits,
           sum(d_calls) as d_calls, sum(d_call_credits) as d_call_credits, sum(d_managed_cost) as d_managed_cost, sum(d_cost) as d_cost,
           sum(d_charge_credits) as d_charge_credits
    from points
    group by 1, 2
  ), runs as (
    select m.*,
           count(m.s_calls) over w as run,
           lead(m.hour) over (partition by m.customer_id order by m.hour) as next_hour,
           sum(m.d_calls) over w as add_calls, sum(m.d_call_credits) over w as add_call_credits,
           sum(m.d_managed_cost) over w as add_managed_cost, sum(m.d_cost) over w as add_cost,
           sum(m.d_charge_credits) over w as add_charge_credits
    from merged m
    window w as (partition by m.customer_id order by m.hour rows unbounded preceding)
  ), totals as (
    select r.customer_id, r.hour, r.next_hour,
           coalesce(first_value(r.s_calls) over v, 0) + r.add_calls as calls,
           coalesce(first_value(r.s_call_credits) over v, 0) + r.add_call_credits as call_credits,
           coalesce(first_value(r.s_managed_cost) over v, 0) + r.add_managed_cost as managed_cost,
           coalesce(first_value(r.s_cost) over v, 0) + r.add_cost as cost,
           coalesce(first_value(r.s_charge_credits) over v, 0) + r.add_charge_credits as charge_credits
    from runs r
    window v as (partition by r.customer_id, r.run order by r.hour)
  ), closed as (
    insert into tally_customer_activity as s (customer_id, hour, next_hour, calls, call_credits, managed_cost, cost, charge_credits)
    select customer_id, hour, next_hour, calls, call_credits, managed_cost, cost, charge_credits from totals where next_hour is not null
    on conflict (customer_id, hour) do update
    set next_hour = excluded.next_hour, calls = excluded.calls, call_credits = excluded.call_credits,
        managed_cost = excluded.managed_cost, cost = excluded.cost, charge_credits = excluded.charge_credits
  )
  insert into tally_customer_activity_latest as s (customer_id, hour, calls, call_credits, managed_cost, cost, charge_credits)
  select customer_id, hour, calls, call_credits, managed_cost, cost, charge_credits from totals where next_hour is null
  on conflict (customer_id) do update
  set hour = excluded.hour, calls = excluded.calls, call_credits = excluded.call_credits, managed_cost = excluded.managed_cost,
      cost = excluded.cost, charge_credits = excluded.charge_credits;
end $$;

create function tally__fold() returns void language plpgsql
set plan_cache_mode = force_generic_plan set enable_hashjoin = off set enable_mergejoin = off set enable_seqscan = off set jit = off as $$
declare
  v_entries tally_entries[];
  v_calls tally_uncharged_calls[];
  v_activity tally__activity[];
begin
  with taken as (
    delete from tally_rollup_pending returning source, ids
  )
  select array(select e from taken t cross join unnest(t.ids) i join tally_entries e on e.id = i
               where t.source = 'entries' order by e.id),
         array(select u from taken t cross join unnest(t.ids) i join tally_uncharged_calls u on u.id = i
               where t.source = 'calls' order by u.id)
    into v_entries, v_calls;
  v_activity := array(select a from tally__tiered(
                  array(select a from tally__entry_activity(v_entries) a) || array(select tally__logged_activity(u) from unnest(v_calls) u)) a);
  perform tally__add_rollups(v_activity, array(select u from tally__entry_use(v_entries) u));
  insert into tally_allowances (bucket_id, customer_id, granted_at, tier, granted)
  select * from tally__entry_grants(v_entries);
  if cardinality(v_activity) > 0 then
    perform tally__add_customer_activity(v_activity);
  end if;
end $$;

create function tally__queued(p_source text, p_ids bigint[]) returns void language plpgsql as $$
declare
  v_id bigint;
begin
  if cardinality(p_ids) = 0 then
    return;
  end if;
  insert into tally_rollup_pending (source, ids) values (p_source, p_ids) returning id into v_id;
  if (v_id % 64 = 0 or cardinality(p_ids) >= 64) and current_setting('transaction_isolation') = 'read committed'
     and pg_try_advisory_xact_lock(726351, hashtext(current_schema())) then
    perform tally__fold();
  end if;
end $$;

create function tally__entries_written() returns trigger language plpgsql as $$
begin
  perform tally__queued('entries', array(select w.id from written w));
  return null;
end $$;

create trigger tally_entries_rollups after insert on tally_entries
referencing new table as written for each statement execute function tally__entries_written();

create function tally__uncharged_written() returns trigger language plpgsql as $$
begin
  perform tally__queued('calls', array(select w.id from written w));
  return null;
end $$;

create trigger tally_uncharged_calls_rollups after insert on tally_uncharged_calls
referencing new table as written for each statement execute function tally__uncharged_written();

-- ---- Moving calls and grants to the tier they really were on

create function tally__retier(p_customer text, p_from timestamptz, p_until timestamptz, p_old text, p_new text)
returns void language plpgsql as $$
declare
  v_lo integer;
  v_hi integer;
  v_calls tally__activity[];
  v_use tally__allowance_use[];
begin
  perform pg_advisory_xact_lock(726351, hashtext(current_schema()));
  if not exists (select 1 from tally_customer_activity_all a
                 where a.customer_id = p_customer and (p_from is null or a.hour >= tally__hour(p_from)))
     and not exists (select 1 from tally_allowances a
                     where a.customer_id = p_customer and (p_from is null or a.granted_at >= p_from)) then
    return;
  end if;

  -- The calls: whole hours from the differences of the customer's running totals, the partial hours
  -- at the ends of the window raw.
  v_lo := case when p_from is null then -1
               when tally__hour_start(tally__hour(p_from)) = p_from then tally__hour(p_from)
               else tally__hour(p_from) + 1 end;
  v_hi := case when p_until is null then 2147483647 else tally__hour(p_until) end;
  if v_lo < v_hi then
    v_calls := array(
      select row(tally__hour_start(d.hour), p_customer, null, null, null, false,
                 d.calls, 0, d.call_credits, 0, d.managed_cost, 0)::tally__activity
      from (select a.hour,
                   a.calls - coalesce(lag(a.calls) over w, 0) as calls,
                   a.call_credits - coalesce(lag(a.call_credits) over w, 0) as call_credits,
                   a.managed_cost - coalesce(lag(a.managed_cost) over w, 0) as managed_cost
            from tally_customer_activity_all a
            where a.customer_id = p_customer
              and a.hour >= coalesce((select max(b.hour) from tally_customer_activity_all b
                                      where b.customer_id = p_customer and b.hour < v_lo), v_lo)
            window w as (order by a.hour)) d
      where d.hour >= v_lo and d.hour < v_hi and (d.calls <> 0 or d.call_credits <> 0))
      || array(select a from tally__activity_between(p_customer, coalesce(p_from, '-infinity'), tally__hour_start(v_lo), true) a
               where a.model is not null and p_from is not null)
      || array(select a from tally__activity_between(p_customer, tally__hour_start(v_hi), coalesce(p_until, 'infinity'), true) a
               where a.model is not null and p_until is not null);
  else
    v_calls := array(select a from tally__activity_between(p_customer, coalesce(p_from, '-infinity'), coalesce(p_until, 'infinity'), true) a
                     where a.model is not null);
  end if;
  v_calls := array(
    select row(c.at, c.customer_id, t.tier, null, null, false, t.sign * c.calls, 0, t.sign * c.call_credits, 0,
               t.sign * c.managed_cost, 0)::tally__activity
    from unnest(v_calls) c cross join (values (p_old, -1), (p_new, 1)) as t(tier, sign));

  -- The grants of the window, with everything taken from their buckets.
  with moved as (
    select a.bucket_id, a.granted_at, a.tier, a.granted
    from tally_allowances a
    where a.customer_id = p_customer and (p_from is null or a.granted_at >= p_from) and (p_until is null or a.granted_at < p_until)
  ), retiered as (
    update tally_allowances a set tier = p_new from moved m where a.bucket_id = m.bucket_id
  ), lines as (
    select m.granted_at, m.tier, m.granted_at as at, m.granted::numeric as granted, 0::numeric as consumed, 0::numeric as expired
    from moved m
    union all
    select m.granted_at, m.tier, e.created_at,
           0, case when e.kind = 'expire' then 0 else -e.bucket_delta end, case when e.kind = 'expire' then -e.bucket_delta else 0 end
    from moved m
    join tally_entries e on e.bucket_id = m.bucket_id and e.bucket_delta < 0 and e.kind in ('spend', 'usage', 'capture', 'expire')
  )
  select array(
    select row(l.granted_at, l.tier, l.at, -l.granted, -l.consumed, -l.expired)::tally__allowance_use from lines l
    union all
    select row(l.granted_at, p_new, l.at, l.granted, l.consumed, l.expired)::tally__allowance_use from lines l)
  into v_use;
  perform tally__add_rollups(v_calls, v_use);
end $$;

create function tally__subscription_saved() returns trigger language plpgsql as $$
declare
  v_old text;
  v_until timestamptz;
begin
  if exists (select 1 from tally_subscription_history h
             where h.customer_id = new.customer_id and h.updated_at = new.updated_at and h.version > new.version) then
    return null;
  end if;
  v_old := coalesce(
    (select h.tier from tally_subscription_history h
     where h.customer_id = new.customer_id and (h.updated_at, h.version) < (new.updated_at, new.version)
     order by h.updated_at desc, h.version desc limit 1),
    (select c.tier from tally_customers c where c.id = new.customer_id));
  if v_old is distinct from new.tier then
    select min(h.updated_at) into v_until
    from tally_subscription_history h
    where h.customer_id = new.customer_id and h.updated_at > new.updated_at;
    perform tally__retier(new.customer_id, new.updated_at, v_until, v_old, new.tier);
  end if;
  return null;
end $$;

create trigger tally_subscription_history_tiers after insert on tally_subscription_history
for each row execute function tally__subscription_saved();

create function tally__customer_tier_changed() returns trigger language plpgsql as $$
begin
  perform tally__retier(new.id, null,
                        (select min(h.updated_at) from tally_subscription_history h where h.customer_id = new.id),
                        old.tier, new.tier);
  return null;
end $$;

create trigger tally_customers_tier after update of tier on tally_customers
for each row when (old.tier is distinct from new.tier) execute function tally__customer_tier_changed();

-- ---- What is already stored

do $$
declare
  v_from bigint;
  v_step constant bigint := 20000;
begin
  perform pg_advisory_xact_lock(726351, hashtext(current_schema()));
  for v_from in select generate_series(0, coalesce((select max(id) from tally_entries), 0), v_step) loop
    insert into tally_rollup_pending (source, ids)
    select 'entries', array_agg(id) from tally_entries where id > v_from and id <= v_from + v_step having count(*) > 0;
    perform tally__fold();
  end loop;
  for v_from in select generate_series(0, coalesce((select max(id) from tally_uncharged_calls), 0), v_step) loop
    insert into tally_rollup_pending (source, ids)
    select 'calls', array_agg(id) from tally_uncharged_calls where id > v_from and id <= v_from + v_step having count(*) > 0;
    perform tally__fold();
  end loop;
end $$;
`;
