// Version 12: each customer's running totals found by a btree instead of a GiST stab (docs/analytics.md,
// "Indexes and rollups"). Never edit it once shipped.
//
// `margin` and `top-customers` need, for an hour t, every customer's row of tally_customer_activity
// whose `[hour, next_hour)` holds t: one row per customer, since a customer's rows tile its timeline.
// Version 8 found them with a GiST index on the range, which visits most of the index for any t (long
// and short ranges overlap everywhere in its pages) and then reads the heap: 15–40 ms per stab on the
// benchmark's million entries. Now each row has a span class, the bit length b of its length
// (2^(b-1) <= next_hour - hour < 2^b), and a btree on (class, hour) that also holds the totals. A row of
// class b holds t only if hour <= t < hour + 2^b, so one range scan per class, over hours
// (t - 2^b, t], finds them all, reading at most about twice as many index entries as rows it returns and
// no heap: about 2.5 ms against 13.6 ms for the stab on a synthetic table of 714,000 rows (both warm).
export const schemaV12 = `
-- Tally schema, version 12: running totals by span class (see schema-v12.ts).

alter table tally_customer_activity
  add column span_class smallint generated always as (length(ltrim((next_hour - hour)::bit(32)::text, '0'))) stored;
create index tally_customer_activity_span on tally_customer_activity (span_class, hour)
  include (next_hour, customer_id, calls, call_credits, managed_cost, cost, charge_credits);
drop index tally_customer_activity_hours;
`;
