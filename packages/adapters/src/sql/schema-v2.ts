// Version 2: the billing records (subscriptions, provider events, coupons, credit packs, auto-recharge).
// Semantics: docs/billing.md. Builds on version 1's helpers; never edit it once shipped.
export const schemaV2 = `
-- Tally billing schema, version 2. Semantics: docs/billing.md. As in version 1, every function takes
-- the time as a parameter, never now(). Grants and idempotency go through version 1's helpers
-- (tally__lock_customer, tally__grant, tally__claim_key, tally__store_result), so a coupon or a
-- credit pack is a ledger grant like any other.

create table tally_subscriptions (
  customer_id text primary key references tally_customers (id),
  tier text not null,
  status text not null check (status in ('trialing', 'active', 'past_due', 'canceled')),
  billing_interval text not null check (billing_interval in ('month', 'year')),
  current_period_start timestamptz not null,
  current_period_end timestamptz not null,
  trial_end timestamptz,
  -- A change is scheduled when scheduled_at is set; scheduled_tier null then means a cancel.
  scheduled_tier text,
  scheduled_at timestamptz,
  past_due_since timestamptz,
  provider text not null,
  provider_customer_id text,
  provider_subscription_id text,
  provider_state_at timestamptz,
  version integer not null check (version >= 1),
  created_at timestamptz not null,
  updated_at timestamptz not null,
  check (current_period_end > current_period_start),
  check (scheduled_tier is null or scheduled_at is not null)
);
create index tally_subscriptions_period_end on tally_subscriptions (current_period_end) where status <> 'canceled';
create index tally_subscriptions_past_due on tally_subscriptions (past_due_since) where status = 'past_due';

-- Every saved version: the same typed columns in the same order (so a row reads as a subscription).
create table tally_subscription_history (
  like tally_subscriptions including constraints,
  primary key (customer_id, version),
  foreign key (customer_id) references tally_customers (id)
);
create index tally_subscription_history_updated on tally_subscription_history (updated_at);

create table tally_provider_events (
  provider text not null,
  event_id text not null,
  type text not null,
  received_at timestamptz not null,
  primary key (provider, event_id)
);

create table tally_coupons (
  code text primary key check (code ~ '^[A-Z0-9][A-Z0-9_-]{0,63}$'),
  benefit_type text not null check (benefit_type in ('credits', 'percent_off')),
  amount_micros bigint,
  expires_in_days integer,
  percent_off_bps integer,
  duration_periods integer,
  max_redemptions integer check (max_redemptions > 0),
  redemptions integer not null default 0 check (redemptions >= 0),
  expires_at timestamptz,
  tiers text[] not null default '{}',
  active boolean not null default true,
  created_at timestamptz not null,
  check (max_redemptions is null or redemptions <= max_redemptions),
  check (case benefit_type
           when 'credits' then amount_micros > 0 and (expires_in_days is null or expires_in_days > 0)
                               and percent_off_bps is null and duration_periods is null
           else percent_off_bps between 1 and 10000 and duration_periods > 0 and amount_micros is null and expires_in_days is null
         end)
);
create index tally_coupons_created on tally_coupons (created_at desc, code collate "C");

create table tally_coupon_redemptions (
  id bigint generated always as identity primary key,
  code text not null references tally_coupons (code),
  customer_id text not null references tally_customers (id),
  bucket_id bigint references tally_buckets (id),
  created_at timestamptz not null,
  unique (code, customer_id)
);
create index tally_coupon_redemptions_customer on tally_coupon_redemptions (customer_id, id);

create table tally_pack_purchases (
  payment_id text primary key,
  customer_id text not null references tally_customers (id),
  pack_id text not null,
  price_cents bigint not null check (price_cents > 0),
  credits_micros bigint not null check (credits_micros > 0),
  bucket_id bigint not null references tally_buckets (id),
  refunded_cents bigint not null default 0 check (refunded_cents >= 0 and refunded_cents <= price_cents),
  clawed_back_micros bigint not null default 0 check (clawed_back_micros >= 0 and clawed_back_micros <= credits_micros),
  -- What the first purchase call answered: a later call for the payment, under any key, replays it.
  first_result jsonb not null,
  created_at timestamptz not null
);
create index tally_pack_purchases_customer on tally_pack_purchases (customer_id);

create table tally_auto_recharge (
  customer_id text primary key references tally_customers (id),
  enabled boolean not null,
  threshold_micros bigint not null check (threshold_micros >= 0),
  pack_id text not null,
  max_per_month integer not null check (max_per_month >= 0),
  updated_at timestamptz not null
);

create table tally_auto_recharge_claims (
  customer_id text not null references tally_customers (id),
  month text not null check (month ~ '^[0-9]{4}-(0[1-9]|1[0-2])$'),
  count integer not null check (count > 0),
  updated_at timestamptz not null,
  primary key (customer_id, month)
);

-- ---- Checks: bad input is VALIDATION and changes nothing (the function's work rolls back).

create function tally__check(p_ok boolean, p_field text, p_rule text) returns void language plpgsql as $$
begin
  if p_ok is not true then
    perform tally__fail('VALIDATION', p_field || ' ' || p_rule);
  end if;
end $$;

-- Ids and keys: 1-255 visible ASCII characters, as core's identifier() checks them.
create function tally__check_id(p text, p_field text, p_optional boolean default false) returns void language plpgsql as $$
begin
  if not ((p_optional and p is null) or coalesce(p ~ '^[!-~]{1,255}$', false)) then
    perform tally__fail('VALIDATION', p_field || ' must be 1-255 visible ASCII characters');
  end if;
end $$;

create function tally__coupon_code(p_code text) returns text language plpgsql as $$
begin
  perform tally__check(p_code ~ '^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$', 'code',
                       'must be 1-64 letters, digits, "-" or "_", starting with a letter or digit');
  return upper(p_code);
end $$;

-- ---- JSON for the store (bigints as text, times as ISO text, as in version 1).

create function tally__subscription_json(s tally_subscriptions) returns jsonb language sql stable as $$
  select jsonb_build_object(
    'customerId', s.customer_id, 'tier', s.tier, 'status', s.status, 'interval', s.billing_interval,
    'currentPeriodStart', tally__ts(s.current_period_start), 'currentPeriodEnd', tally__ts(s.current_period_end),
    'trialEnd', tally__ts(s.trial_end),
    'scheduledChange', case when s.scheduled_at is null then null
                            else jsonb_build_object('tier', s.scheduled_tier, 'at', tally__ts(s.scheduled_at)) end,
    'pastDueSince', tally__ts(s.past_due_since), 'provider', s.provider, 'providerCustomerId', s.provider_customer_id,
    'providerSubscriptionId', s.provider_subscription_id, 'providerStateAt', tally__ts(s.provider_state_at),
    'version', s.version, 'createdAt', tally__ts(s.created_at), 'updatedAt', tally__ts(s.updated_at))
$$;

create function tally__benefit_json(k tally_coupons) returns jsonb language sql stable as $$
  select case k.benefit_type
    when 'credits' then jsonb_build_object('type', 'credits', 'amountMicros', k.amount_micros::text, 'expiresInDays', k.expires_in_days)
    else jsonb_build_object('type', 'percent_off', 'percentOffBps', k.percent_off_bps, 'durationPeriods', k.duration_periods)
  end
$$;

create function tally__coupon_json(k tally_coupons) returns jsonb language sql stable as $$
  select jsonb_build_object(
    'code', k.code, 'benefit', tally__benefit_json(k), 'maxRedemptions', k.max_redemptions, 'expiresAt', tally__ts(k.expires_at),
    'tiers', to_jsonb(k.tiers), 'redemptions', k.redemptions, 'active', k.active, 'createdAt', tally__ts(k.created_at))
$$;

create function tally__redemption_json(r tally_coupon_redemptions, k tally_coupons) returns jsonb language sql stable as $$
  select jsonb_build_object(
    'id', r.id::text, 'code', r.code, 'customerId', r.customer_id, 'benefit', tally__benefit_json(k),
    'bucketId', r.bucket_id::text, 'createdAt', tally__ts(r.created_at))
$$;

create function tally__purchase_json(p tally_pack_purchases) returns jsonb language sql stable as $$
  select jsonb_build_object(
    'paymentId', p.payment_id, 'customerId', p.customer_id, 'packId', p.pack_id, 'priceCents', p.price_cents::text,
    'creditsMicros', p.credits_micros::text, 'bucketId', p.bucket_id::text, 'refundedCents', p.refunded_cents::text,
    'clawedBackMicros', p.clawed_back_micros::text, 'createdAt', tally__ts(p.created_at))
$$;

create function tally__auto_recharge_json(a tally_auto_recharge) returns jsonb language sql stable as $$
  select jsonb_build_object(
    'customerId', a.customer_id, 'enabled', a.enabled, 'thresholdMicros', a.threshold_micros::text, 'packId', a.pack_id,
    'maxPerMonth', a.max_per_month, 'updatedAt', tally__ts(a.updated_at))
$$;

-- ---- Subscriptions

-- Inserts (p_expected null, version 1) or replaces the row at version p_expected (version p_expected + 1);
-- anything else is CONFLICT. The insert's unique index and the update's row lock make two concurrent
-- saves of one version end with exactly one winner.
create function tally_save_subscription(
  p_customer text, p_tier text, p_status text, p_interval text, p_period_start timestamptz, p_period_end timestamptz,
  p_trial_end timestamptz, p_scheduled_tier text, p_scheduled_at timestamptz, p_past_due_since timestamptz,
  p_provider text, p_provider_customer text, p_provider_subscription text, p_provider_state_at timestamptz,
  p_version integer, p_created_at timestamptz, p_updated_at timestamptz, p_expected integer)
returns jsonb language plpgsql as $$
declare
  s tally_subscriptions;
  v_stored integer;
begin
  perform tally__check_id(p_customer, 'customerId');
  perform tally__check_id(p_tier, 'tier');
  perform tally__check(p_status in ('trialing', 'active', 'past_due', 'canceled'), 'status', 'must be trialing, active, past_due or canceled');
  perform tally__check(p_interval in ('month', 'year'), 'interval', 'must be month or year');
  perform tally__check(p_period_end > p_period_start, 'currentPeriodEnd', 'must be after currentPeriodStart');
  perform tally__check_id(p_scheduled_tier, 'scheduledChange.tier', true);
  perform tally__check_id(p_provider, 'provider');
  perform tally__check_id(p_provider_customer, 'providerCustomerId', true);
  perform tally__check_id(p_provider_subscription, 'providerSubscriptionId', true);
  perform tally__check(p_expected is null or p_expected between 1 and 999999999, 'expectedVersion', 'must be from 1 to 999999999');
  perform tally__check(p_version = coalesce(p_expected + 1, 1), 'version',
                       'must be ' || coalesce(p_expected + 1, 1) || ' when the expected version is ' || coalesce(p_expected::text, 'null'));
  perform 1 from tally_customers where id = p_customer;
  if not found then
    perform tally__fail('NOT_FOUND', 'unknown customer "' || p_customer || '"');
  end if;
  if p_expected is null then
    insert into tally_subscriptions values (
      p_customer, p_tier, p_status, p_interval, p_period_start, p_period_end, p_trial_end, p_scheduled_tier, p_scheduled_at,
      p_past_due_since, p_provider, p_provider_customer, p_provider_subscription, p_provider_state_at, p_version,
      p_created_at, p_updated_at)
    on conflict (customer_id) do nothing
    returning * into s;
  else
    update tally_subscriptions set
      tier = p_tier, status = p_status, billing_interval = p_interval, current_period_start = p_period_start,
      current_period_end = p_period_end, trial_end = p_trial_end, scheduled_tier = p_scheduled_tier, scheduled_at = p_scheduled_at,
      past_due_since = p_past_due_since, provider = p_provider, provider_customer_id = p_provider_customer,
      provider_subscription_id = p_provider_subscription, provider_state_at = p_provider_state_at, version = p_version,
      created_at = p_created_at, updated_at = p_updated_at
    where customer_id = p_customer and version = p_expected
    returning * into s;
  end if;
  if not found then
    select version into v_stored from tally_subscriptions where customer_id = p_customer;
    perform tally__fail('CONFLICT', 'the subscription of "' || p_customer || '" is at version ' || coalesce(v_stored::text, 'null')
                        || ', not ' || coalesce(p_expected::text, 'null'));
  end if;
  insert into tally_subscription_history values (s.*);
  return tally__subscription_json(s);
end $$;

create function tally_record_provider_event(p_provider text, p_event text, p_type text, p_at timestamptz)
returns boolean language plpgsql as $$
begin
  perform tally__check_id(p_provider, 'provider');
  perform tally__check_id(p_event, 'eventId');
  perform tally__check_id(p_type, 'type');
  insert into tally_provider_events (provider, event_id, type, received_at) values (p_provider, p_event, p_type, p_at)
  on conflict (provider, event_id) do nothing;
  return found;
end $$;

-- ---- Coupons

create function tally_create_coupon(p_code text, p_type text, p_amount bigint, p_expires_in_days integer, p_percent_off_bps integer,
                                    p_duration_periods integer, p_max integer, p_expires timestamptz, p_tiers jsonb, p_at timestamptz)
returns jsonb language plpgsql as $$
declare
  v_code text := tally__coupon_code(p_code);
  v_tiers text[];
  k tally_coupons;
begin
  if p_type = 'credits' then
    perform tally__check(p_amount between 1 and 1000000000000000, 'benefit.amountMicros', 'must be from 1 to 1000000000000000');
    perform tally__check(p_expires_in_days is null or p_expires_in_days between 1 and 36500, 'benefit.expiresInDays',
                         'must be a whole number from 1 to 36500');
    p_percent_off_bps := null;
    p_duration_periods := null;
  elsif p_type = 'percent_off' then
    perform tally__check(p_percent_off_bps between 1 and 10000, 'benefit.percentOffBps', 'must be a whole number from 1 to 10000');
    perform tally__check(p_duration_periods between 1 and 1000, 'benefit.durationPeriods', 'must be a whole number from 1 to 1000');
    p_amount := null;
    p_expires_in_days := null;
  else
    perform tally__fail('VALIDATION', 'benefit.type must be credits or percent_off');
  end if;
  perform tally__check(p_max is null or p_max between 1 and 1000000000, 'maxRedemptions', 'must be a whole number from 1 to 1000000000');
  perform tally__check(p_expires is null or p_expires > p_at, 'expiresAt', 'must be after the coupon is created');
  perform tally__check(jsonb_typeof(p_tiers) = 'array', 'tiers', 'must be a list of tier ids');
  select coalesce(array_agg(t order by n), '{}') into v_tiers from jsonb_array_elements_text(p_tiers) with ordinality as e(t, n);
  perform tally__check_id(t, 'tiers') from unnest(v_tiers) t;
  insert into tally_coupons (code, benefit_type, amount_micros, expires_in_days, percent_off_bps, duration_periods, max_redemptions,
                             expires_at, tiers, created_at)
  values (v_code, p_type, p_amount, p_expires_in_days, p_percent_off_bps, p_duration_periods, p_max, p_expires, v_tiers, p_at)
  on conflict (code) do nothing
  returning * into k;
  if not found then
    perform tally__fail('CONFLICT', 'coupon "' || v_code || '" already exists');
  end if;
  return tally__coupon_json(k);
end $$;

create function tally_set_coupon_active(p_code text, p_active boolean) returns jsonb language plpgsql as $$
declare
  v_code text := tally__coupon_code(p_code);
  k tally_coupons;
begin
  perform tally__check(p_active is not null, 'active', 'must be true or false');
  update tally_coupons set active = p_active where code = v_code returning * into k;
  if not found then
    perform tally__fail('COUPON_NOT_FOUND', 'unknown coupon "' || v_code || '"');
  end if;
  return tally__coupon_json(k);
end $$;

-- Race-free redemption: the customer row lock serialises one customer's redemptions (so "once per
-- customer" is a plain check, with the unique index behind it), and the conditional update counts a
-- use only while one is left: concurrent redeemers queue on the coupon row and each re-checks the
-- count once the one before commits, so exactly max_redemptions of them succeed. Lock order:
-- customer, then coupon, as everywhere else.
create function tally_redeem_coupon(p_key text, p_request text, p_code text, p_customer text, p_tier text, p_at timestamptz)
returns jsonb language plpgsql as $$
declare
  v_prior jsonb := tally__claim_key(p_key, 'redeem_coupon', p_request, p_at);
  v_code text;
  c tally_customers;
  k tally_coupons;
  r tally_coupon_redemptions;
  v_grant jsonb;
begin
  if v_prior is not null then return v_prior; end if;
  v_code := tally__coupon_code(p_code);
  perform tally__check_id(p_tier, 'tier');
  c := tally__lock_customer(p_customer, p_at);
  select * into k from tally_coupons where code = v_code;
  if not found or not k.active then
    perform tally__fail('COUPON_NOT_FOUND', 'unknown coupon "' || v_code || '"');
  end if;
  if k.expires_at <= p_at then
    perform tally__fail('COUPON_EXPIRED', 'coupon "' || v_code || '" expired at ' || tally__ts(k.expires_at));
  end if;
  if cardinality(k.tiers) > 0 and not (p_tier = any (k.tiers)) then
    perform tally__fail('COUPON_NOT_APPLICABLE', 'coupon "' || v_code || '" is not for the ' || p_tier || ' tier');
  end if;
  perform 1 from tally_coupon_redemptions where code = v_code and customer_id = c.id;
  if found then
    perform tally__fail('COUPON_ALREADY_REDEEMED', 'customer "' || c.id || '" already redeemed "' || v_code || '"');
  end if;
  update tally_coupons set redemptions = redemptions + 1
  where code = v_code and active and (max_redemptions is null or redemptions < max_redemptions)
  returning * into k;
  if not found then
    -- The last use went to a concurrent redemption, or the coupon was switched off meanwhile.
    select * into k from tally_coupons where code = v_code;
    if not k.active then
      perform tally__fail('COUPON_NOT_FOUND', 'unknown coupon "' || v_code || '"');
    end if;
    perform tally__fail('COUPON_EXHAUSTED', 'coupon "' || v_code || '" has no redemptions left');
  end if;
  if k.benefit_type = 'credits' then
    -- Days of 24 hours: adding '1 day' to a timestamptz would follow the session's daylight saving.
    v_grant := tally__grant(c, 'coupon', k.amount_micros,
                            case when k.expires_in_days is null then null else p_at + k.expires_in_days * interval '24 hours' end,
                            'system:coupons', 'grant', 'Coupon ' || v_code, p_at);
  end if;
  insert into tally_coupon_redemptions (code, customer_id, bucket_id, created_at)
  values (v_code, c.id, (v_grant -> 'bucket' ->> 'id')::bigint, p_at)
  returning * into r;
  insert into tally_outbox (topic, payload, dedupe_key, created_at, available_at)
  values ('coupon.redeemed',
          json_build_object('at', tally__ts(p_at),
                            'benefit', case k.benefit_type
                                         when 'credits' then json_build_object('amountMicros', k.amount_micros::text,
                                                                               'expiresInDays', k.expires_in_days, 'type', 'credits')
                                         else json_build_object('durationPeriods', k.duration_periods,
                                                                'percentOffBps', k.percent_off_bps, 'type', 'percent_off') end,
                            'code', v_code, 'customerId', c.id, 'redemptionId', r.id::text)::text,
          'coupon.redeemed:' || v_code || ':' || c.id, p_at, p_at)
  on conflict (dedupe_key) do nothing;
  return tally__store_result(p_key, null, jsonb_build_object('redemption', tally__redemption_json(r, k), 'grant', v_grant));
end $$;

-- ---- Credit packs

-- Advisory locks (class, hashtext(payment id)) queue the calls for one payment whatever their keys.
-- The two-key lock space is separate from the migration's one-key lock.
create function tally_purchase_credits(p_key text, p_request text, p_payment text, p_customer text, p_pack text, p_price bigint,
                                       p_credits bigint, p_at timestamptz)
returns jsonb language plpgsql as $$
declare
  v_prior jsonb := tally__claim_key(p_key, 'purchase_credits', p_request, p_at);
  c tally_customers;
  p tally_pack_purchases;
  v_grant jsonb;
begin
  if v_prior is not null then return v_prior; end if;
  perform tally__check_id(p_payment, 'paymentId');
  perform tally__check_id(p_pack, 'packId');
  perform tally__check(p_price between 1 and 1000000000000000, 'priceCents', 'must be from 1 to 1000000000000000');
  perform tally__check(p_credits between 1 and 1000000000000000, 'creditsMicros', 'must be from 1 to 1000000000000000');
  perform pg_advisory_xact_lock(7263518, hashtext(p_payment));
  select * into p from tally_pack_purchases where payment_id = p_payment;
  if found then
    if p.customer_id <> p_customer or p.pack_id <> p_pack or p.price_cents <> p_price or p.credits_micros <> p_credits then
      perform tally__fail('CONFLICT', 'payment "' || p_payment || '" was recorded for another purchase');
    end if;
    return tally__store_result(p_key, null, p.first_result) || '{"replayed": true}'::jsonb;
  end if;
  c := tally__lock_customer(p_customer, p_at);
  v_grant := tally__grant(c, 'purchased', p_credits, null, 'system:purchases', 'grant', 'Credit pack ' || p_pack, p_at);
  p := row(p_payment, c.id, p_pack, p_price, p_credits, (v_grant -> 'bucket' ->> 'id')::bigint, 0, 0, null, p_at)::tally_pack_purchases;
  p.first_result := jsonb_build_object('purchase', tally__purchase_json(p), 'grant', v_grant);
  insert into tally_pack_purchases values (p.*);
  return tally__store_result(p_key, null, p.first_result);
end $$;

-- Takes back credits × refunded ÷ price (rounded down, in numeric: the product can pass a bigint), less
-- what earlier refunds took, never more than the pack's bucket still holds. Refunds are cumulative, so
-- a smaller figure arriving late changes nothing.
create function tally_refund_purchase(p_key text, p_request text, p_payment text, p_refunded bigint, p_at timestamptz)
returns jsonb language plpgsql as $$
declare
  v_prior jsonb := tally__claim_key(p_key, 'refund_purchase', p_request, p_at);
  v_customer text;
  c tally_customers;
  p tally_pack_purchases;
  v_total bigint;
  v_take bigint := 0;
  v_remaining bigint;
  v_op bigint;
begin
  if v_prior is not null then return v_prior; end if;
  perform tally__check_id(p_payment, 'paymentId');
  perform tally__check(p_refunded between 0 and 1000000000000000, 'refundedCents', 'must be from 0 to 1000000000000000');
  select customer_id into v_customer from tally_pack_purchases where payment_id = p_payment;
  if not found then
    perform tally__fail('NOT_FOUND', 'unknown payment "' || p_payment || '"');
  end if;
  c := tally__lock_customer(v_customer, p_at);
  select * into p from tally_pack_purchases where payment_id = p_payment for update;
  perform tally__check(p_refunded <= p.price_cents, 'refundedCents', 'must not exceed the price of ' || p.price_cents || ' cents');
  v_total := greatest(p.refunded_cents, p_refunded);
  select remaining into v_remaining from tally_buckets where id = p.bucket_id;
  v_take := least(div(p.credits_micros::numeric * v_total, p.price_cents)::bigint - p.clawed_back_micros, v_remaining);
  if v_take > 0 then
    v_op := nextval('tally_operation_seq');
    update tally_buckets set remaining = remaining - v_take where id = p.bucket_id;
    insert into tally_entries (operation_id, customer_id, kind, from_account, to_account, amount, bucket_id, bucket_delta,
                               description, created_at)
    values (v_op, c.id, 'clawback', 'customer:' || c.id, 'system:purchases', v_take, p.bucket_id, -v_take,
            'Refund of payment ' || p_payment, p_at);
    update tally_customers set balance = balance - v_take where id = c.id returning * into c;
    insert into tally_outbox (topic, payload, dedupe_key, created_at, available_at)
    values ('credits.clawed_back',
            json_build_object('amountMicros', v_take::text, 'at', tally__ts(p_at), 'balanceMicros', c.balance::text,
                              'customerId', c.id, 'paymentId', p_payment)::text,
            'credits.clawed_back:' || p_payment || ':' || v_total, p_at, p_at)
    on conflict (dedupe_key) do nothing;
  else
    v_take := 0;
  end if;
  update tally_pack_purchases set refunded_cents = v_total, clawed_back_micros = clawed_back_micros + v_take
  where payment_id = p_payment
  returning * into p;
  return tally__store_result(p_key, null,
                             jsonb_build_object('purchase', tally__purchase_json(p), 'clawedBackMicros', v_take::text));
end $$;

-- ---- Auto-recharge

create function tally_save_auto_recharge(p_customer text, p_enabled boolean, p_threshold bigint, p_pack text, p_max integer,
                                         p_updated_at timestamptz)
returns jsonb language plpgsql as $$
declare
  a tally_auto_recharge;
begin
  perform tally__check_id(p_customer, 'customerId');
  perform tally__check(p_enabled is not null, 'enabled', 'must be true or false');
  perform tally__check(p_threshold between 0 and 1000000000000000, 'thresholdMicros', 'must be from 0 to 1000000000000000');
  perform tally__check_id(p_pack, 'packId');
  perform tally__check(p_max between 0 and 1000000000, 'maxPerMonth', 'must be a whole number from 0 to 1000000000');
  perform 1 from tally_customers where id = p_customer;
  if not found then
    perform tally__fail('NOT_FOUND', 'unknown customer "' || p_customer || '"');
  end if;
  insert into tally_auto_recharge (customer_id, enabled, threshold_micros, pack_id, max_per_month, updated_at)
  values (p_customer, p_enabled, p_threshold, p_pack, p_max, p_updated_at)
  on conflict (customer_id) do update set enabled = excluded.enabled, threshold_micros = excluded.threshold_micros,
    pack_id = excluded.pack_id, max_per_month = excluded.max_per_month, updated_at = excluded.updated_at
  returning * into a;
  return tally__auto_recharge_json(a);
end $$;

-- Counts one recharge for (customer, month) unless p_max are already counted; null then. Concurrent
-- claims queue on the row (or on its key, for the month's first), and each re-checks the count.
create function tally_claim_auto_recharge(p_customer text, p_month text, p_max integer, p_at timestamptz)
returns integer language plpgsql as $$
declare
  v_count integer;
begin
  perform tally__check(p_month ~ '^[0-9]{4}-(0[1-9]|1[0-2])$', 'month', 'must be YYYY-MM');
  perform tally__check(p_max between 0 and 1000000000, 'maxPerMonth', 'must be a whole number from 0 to 1000000000');
  perform 1 from tally_customers where id = p_customer;
  if not found then
    perform tally__fail('NOT_FOUND', 'unknown customer "' || p_customer || '"');
  end if;
  if p_max = 0 then
    return null;
  end if;
  insert into tally_auto_recharge_claims as a (customer_id, month, count, updated_at)
  values (p_customer, p_month, 1, p_at)
  on conflict (customer_id, month) do update set count = a.count + 1, updated_at = excluded.updated_at
  where a.count < p_max
  returning a.count into v_count;
  return v_count;
end $$;

-- ---- Outbox

create function tally_retry_outbox(p_id bigint, p_at timestamptz) returns void language plpgsql as $$
begin
  update tally_outbox set dead = false, attempts = 0, available_at = p_at, leased_until = null
  where id = p_id and dead and delivered_at is null;
  if not found then
    perform tally__fail('NOT_FOUND', 'no dead outbox message "' || p_id || '"');
  end if;
end $$;
`;
