// Version 10: active customers per bucket (the `customers` metric, docs/analytics.md) without reading
// every call of the range. Never edit it once shipped.
//
// "Active in a bucket" is a distinct count: the customers with at least one call in it. Counting it
// from the journal reads every call of the range (a million rows for 90 days of the bench), so
// version 8's query took seconds. Two tables make it a sum over a few thousand rows:
//
// - tally_active_days: one row per customer and UTC day with a call (charged with usage, or logged),
//   with `gap`: the days since the customer's previous such day, capped at 32 (32 also when there is
//   none).
// - tally_active_gaps: per day and gap, how many customers have that row.
//
// A customer is active in the whole days [a, b) (at most 31 of them: a month) when it has a row there;
// counting each customer once, at its first row in [a, b), is counting the rows whose previous active
// day is before a, i.e. whose gap exceeds `day - a` (≤ 30, so the cap loses nothing). That is the sum
// of tally_active_gaps over day in [a, b) and gap > day - a.
//
// The fold (version 8's `tally__fold`) adds the days of the calls it folds, through the function it
// already calls with them (`tally__add_customer_activity`, which now does both): new rows get their gap, and a row inserted before a customer's later days changes the gap of
// the row after it; the histogram is moved by the difference. Calls still queued are not in the days
// yet: the query reads them from the queue, together with the calls in the partial days at a range's
// edges (read raw), and adds those of their customers that have no row in the bucket's whole days.
// The backfill below reads every call already stored; a queued call is then in the days twice over,
// which the fold's `on conflict do nothing` and the query's union both absorb.
export const schemaV10 = `
-- Tally schema, version 10: active customers by day (see schema-v10.ts).

create table tally_active_days (
  customer_id text not null,
  day integer not null,
  gap integer not null,
  primary key (customer_id, day)
);

create table tally_active_gaps (
  day integer not null,
  gap integer not null,
  customers bigint not null,
  primary key (day, gap)
);

create function tally__add_active_days(p_activity tally__activity[]) returns void language plpgsql
set plan_cache_mode = force_generic_plan set enable_hashjoin = off set enable_mergejoin = off set enable_seqscan = off set jit = off as $$
declare
  v_added tally_active_days[];
begin
  with added as (
    insert into tally_active_days (customer_id, day, gap)
    select distinct a.customer_id, tally__day(a.at), -1
    from unnest(p_activity) a
    where a.calls > 0
    on conflict (customer_id, day) do nothing
    returning *
  )
  select array(select a from added a) into v_added;
  if cardinality(v_added) = 0 then
    return;
  end if;
  with starts as (
    select s.customer_id, s.first_day,
           (select max(d.day) from tally_active_days d where d.customer_id = s.customer_id and d.day < s.first_day) as before_day
    from (select a.customer_id, min(a.day) as first_day from unnest(v_added) a group by a.customer_id) s
  ), recomputed as (
    select d.customer_id, d.day, d.gap as old_gap, s.first_day,
           coalesce(least(d.day - lag(d.day) over (partition by d.customer_id order by d.day), 32), 32) as new_gap
    from starts s
    join tally_active_days d on d.customer_id = s.customer_id and d.day >= coalesce(s.before_day, s.first_day)
  ), changed as (
    select * from recomputed where day >= first_day and old_gap <> new_gap
  ), updated as (
    update tally_active_days t set gap = c.new_gap from changed c where t.customer_id = c.customer_id and t.day = c.day
  ), moves as (
    select day, old_gap as gap, -1 as n from changed where old_gap >= 0
    union all
    select day, new_gap, 1 from changed
  )
  insert into tally_active_gaps as g (day, gap, customers)
  select day, gap, sum(n) from moves group by day, gap
  on conflict (day, gap) do update set customers = g.customers + excluded.customers;
end $$;

-- The fold calls tally__add_customer_activity with what it folds: that name now adds the days too.
alter function tally__add_customer_activity(tally__activity[]) rename to tally__add_customer_hours;

create function tally__add_customer_activity(p_activity tally__activity[]) returns void language plpgsql as $$
begin
  perform tally__add_customer_hours(p_activity);
  perform tally__add_active_days(p_activity);
end $$;

insert into tally_active_days (customer_id, day, gap)
select customer_id, day, coalesce(least(day - lag(day) over (partition by customer_id order by day), 32), 32)
from (
  select customer_id, tally__day(created_at) as day from tally_entries
  where kind in ('spend', 'usage', 'capture') and usage is not null
  union
  select customer_id, tally__day(at) from tally_uncharged_calls
) calls;

insert into tally_active_gaps (day, gap, customers)
select day, gap, count(*) from tally_active_days group by day, gap;
`;
