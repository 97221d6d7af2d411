// Version 11: the subscription records that can change MRR, apart from those that cannot, for the MRR
// metrics (docs/analytics.md). Never edit it once shipped.
//
// A customer's MRR at an instant follows from the tier and status of its latest record
// (docs/analytics.md); a record with the same tier and the same paying status (active or past due, or
// neither) as the record before it, in (updated_at, version) order, changes nothing, whatever the
// catalog's prices. Renewals are most of the history and are such records. tally_mrr_points holds the
// others: each customer's first record and every record whose tier or paying status differs from its
// predecessor's. The MRR metrics (mrr, churn, retention) read it instead of the whole history. A
// record saved between two others (a past time) is a point or not by its predecessor, and decides
// again whether its successor is one.
export const schemaV11 = `
-- Tally schema, version 11: MRR points (see schema-v11.ts).

create table tally_mrr_points (
  customer_id text not null,
  updated_at timestamptz not null,
  version integer not null,
  tier text not null,
  paying boolean not null,
  primary key (customer_id, updated_at, version) include (tier, paying)
);
create index tally_mrr_points_updated on tally_mrr_points (updated_at);

create function tally__mrr_point_saved() returns trigger language plpgsql as $$
declare
  v_paying boolean := new.status in ('active', 'past_due');
  v_prev record;
  v_next record;
begin
  select h.tier, h.status in ('active', 'past_due') as paying into v_prev
  from tally_subscription_history h
  where h.customer_id = new.customer_id and (h.updated_at, h.version) < (new.updated_at, new.version)
  order by h.updated_at desc, h.version desc
  limit 1;
  if not found or (v_prev.tier, v_prev.paying) is distinct from (new.tier, v_paying) then
    insert into tally_mrr_points (customer_id, updated_at, version, tier, paying)
    values (new.customer_id, new.updated_at, new.version, new.tier, v_paying);
  end if;
  select h.updated_at, h.version, h.tier, h.status in ('active', 'past_due') as paying into v_next
  from tally_subscription_history h
  where h.customer_id = new.customer_id and (h.updated_at, h.version) > (new.updated_at, new.version)
  order by h.updated_at, h.version
  limit 1;
  if found then
    if (v_next.tier, v_next.paying) is distinct from (new.tier, v_paying) then
      insert into tally_mrr_points (customer_id, updated_at, version, tier, paying)
      values (new.customer_id, v_next.updated_at, v_next.version, v_next.tier, v_next.paying)
      on conflict do nothing;
    else
      delete from tally_mrr_points
      where customer_id = new.customer_id and updated_at = v_next.updated_at and version = v_next.version;
    end if;
  end if;
  return null;
end $$;

create trigger tally_subscription_history_mrr_points after insert on tally_subscription_history
for each row execute function tally__mrr_point_saved();

insert into tally_mrr_points (customer_id, updated_at, version, tier, paying)
select customer_id, updated_at, version, tier, paying
from (select customer_id, updated_at, version, tier, status in ('active', 'past_due') as paying,
             lag(tier) over w as prev_tier, lag(status in ('active', 'past_due')) over w as prev_paying,
             row_number() over w as n
      from tally_subscription_history
      window w as (partition by customer_id order by updated_at, version)) h
where n = 1 or (prev_tier, prev_paying) is distinct from (tier, paying);
`;
