// Version 13: the rollups are folded off the request path (docs/analytics.md, "Indexes and rollups").
// Never edit it once shipped.
//
// Version 8 folded the queue into the rollups from inside every 64th queuing statement: a spend or
// capture that drew the 64th ticket paid the whole fold (1–10 ms, most of it fixed cost), so 1.6 % of
// single-entry writes carried it and it set their p99. Now a statement of fewer than 64 rows folds only
// on every 1024th ticket, a backstop that keeps the queue bounded where nothing else folds; the fold
// itself is meant to run from a job, `tally_fold_rollups()` (a store's `foldAnalytics`), every minute or
// so. Batches of 64 rows or more still fold themselves, as before. The metric queries read what is
// still queued raw, so answers are exact however long the queue is.
export const schemaV13 = `
-- Tally schema, version 13: rollups folded by a job (see schema-v13.ts).

create or replace function tally__queued(p_source text, p_ids bigint[]) returns void language plpgsql as $$
declare
  v_id bigint;
begin
  if cardinality(p_ids) = 0 then
    return;
  end if;
  insert into tally_rollup_pending (source, ids) values (p_source, p_ids) returning id into v_id;
  if (v_id % 1024 = 0 or cardinality(p_ids) >= 64) and current_setting('transaction_isolation') = 'read committed'
     and pg_try_advisory_xact_lock(726351, hashtext(current_schema())) then
    perform tally__fold();
  end if;
end $$;

-- Folds everything queued, unless another fold holds the lock (then that one is folding it). Returns
-- whether this call folded. Only a read-committed transaction may fold (see schema-v8.ts).
create function tally_fold_rollups() returns boolean language plpgsql as $$
begin
  if current_setting('transaction_isolation') <> 'read committed' then
    perform tally__fail('CONFLICT', 'the rollups fold only in a read committed transaction');
  end if;
  if not pg_try_advisory_xact_lock(726351, hashtext(current_schema())) then
    return false;
  end if;
  perform tally__fold();
  return true;
end $$;
`;
