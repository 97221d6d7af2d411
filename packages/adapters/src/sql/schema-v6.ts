// Version 6: the email delivery log and the scheduler's claimed runs (docs/notifications.md).
// Plain tables: the store reads and writes them with parameterized statements. Never edit it once shipped.
export const schemaV6 = `
-- Tally schema, version 6: every mail attempt, suppression and test send, and the scheduler's slots.

-- One line per attempt (a retry of one mail repeats its dedupe_key with a higher attempt), never
-- updated. No foreign key to tally_customers: test sends have no customer, and a log keeps what
-- happened. The template is not checked here, so a template added later needs no migration; core
-- (checkRecordEmailDelivery) refuses unknown ones before the insert.
create table tally_email_deliveries (
  id bigint generated always as identity primary key,
  dedupe_key text not null check (length(dedupe_key) between 1 and 500),
  customer_id text,
  template text not null,
  recipient text,
  subject text,
  status text not null check (status in ('sent', 'failed', 'suppressed')),
  suppression text check (suppression in ('preference', 'no_recipient')),
  attempt integer not null check (attempt >= 1),
  error text,
  transport text,
  message_id text,
  test boolean not null,
  at timestamptz not null,
  check ((status = 'suppressed') = (suppression is not null))
);

-- The admin log pages newest first from the last (at, id) it returned:
--   where (at, id) < ($at, $id) order by at desc, id desc limit n
-- one range scan of this index; a status or template filter is a filter on the same walk.
create index tally_email_deliveries_newest on tally_email_deliveries (at desc, id desc);
-- A customer's log: the same order within one customer.
create index tally_email_deliveries_customer on tally_email_deliveries (customer_id, at desc, id desc) where customer_id is not null;

-- One row per (job, slot) any instance claimed. An insert claims a free slot; an insert that
-- conflicts takes the row over only while it is neither completed nor leased:
--   insert … on conflict (job, slot) do update … where completed_at is null and lease_until <= $at
-- Concurrent claimers queue on the primary key, and each sees the winner's row once it commits,
-- so exactly one of them gets a row back.
create table tally_scheduled_runs (
  job text not null,
  slot timestamptz not null,
  claimed_at timestamptz not null,
  lease_until timestamptz not null,
  completed_at timestamptz,
  primary key (job, slot),
  check (lease_until > claimed_at)
);
-- lastScheduledRun (max(slot) of a job's completed rows) walks the primary key backwards from the
-- job's newest slot; the rows it passes before a completed one are newer slots still running or
-- failed, a few at most, so no index of its own.
`;
