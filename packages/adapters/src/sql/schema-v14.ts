// Version 14: the folding functions are planned for each call (docs/analytics.md, "Indexes and
// rollups"). Never edit it once shipped.
//
// Versions 8 and 10 gave the folding functions one generic plan per session. A generic plan is built
// from the statistics of the moment: a session whose first fold ran after an ANALYZE of the still
// empty running-totals table (autovacuum does that on Postgres; the ledger bench does it by hand) kept
// a plan that joins each customer of a fold against a materialised scan of the whole table instead of
// probing its primary key. Folds then grew with the table: on PGlite over 10,000 customers, folding
// four 1,000-item batches took 1,730 ms without usage details and 2,085 ms with them, against 219 and
// 541 ms planned per call. Planning each statement for the data at hand costs far less than that.
export const schemaV14 = `
-- Tally schema, version 14: folding functions planned per call (see schema-v14.ts).

alter function tally__fold() set plan_cache_mode = force_custom_plan;
alter function tally__add_rollups(tally__activity[], tally__allowance_use[]) set plan_cache_mode = force_custom_plan;
alter function tally__add_customer_hours(tally__activity[]) set plan_cache_mode = force_custom_plan;
alter function tally__add_active_days(tally__activity[]) set plan_cache_mode = force_custom_plan;
`;
