// Version 5: notification preferences and the index of the customer listing (docs/notifications.md).
// Plain tables: the store reads and writes them with parameterized statements. Never edit it once shipped.
export const schemaV5 = `
-- Tally schema, version 5: which notifications each customer receives, and the customer listing.

-- Only the categories a customer ever set, as {"<category>": true | false}; the others are on.
-- Keeping the set ones alone means a category added later starts on for everyone, with no
-- migration, and a save merges its changes into the row (categories || changes) under the row's
-- lock, so two saves of different categories both land.
create table tally_notification_preferences (
  customer_id text primary key references tally_customers (id),
  categories jsonb not null check (jsonb_typeof(categories) = 'object'),
  updated_at timestamptz not null,
  -- Backstops for the checks in core (checkNotificationChanges): values are booleans, and the
  -- required category payment_failed is never off.
  check (not jsonb_path_exists(categories, '$.* ? (@.type() != "boolean")')),
  check (categories -> 'payment_failed' is distinct from 'false'::jsonb)
);

-- listCustomers pages in binary id order (the memory store's order) from the last id it returned:
--   where id collate "C" > $after [and id collate "C" ilike $pattern] order by id collate "C" limit n
-- The primary key's index sorts by the database's collation, which need not be binary, so this one
-- serves the order and the cursor as one index range scan. A search is a filter on that walk: it
-- reads ids in order until a page is full, so a search that few ids match can read the rest of the
-- index. A trigram index would serve substring search, but it needs the pg_trgm extension, which
-- PGlite loads only when asked and a managed Postgres may not allow; the admin listing doesn't need it.
create index tally_customers_id_binary on tally_customers (id collate "C");
`;
