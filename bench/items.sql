-- The benchmark table: 12 mixed columns with the values engines disagree on (NULL vs '', text
-- that looks like NULL markers, tabs, quotes, emoji, NaN/±Infinity/-0, extreme floats, µs times).
-- psql -v rows=1000000 -f bench/items.sql
CREATE TABLE items (
  id bigint PRIMARY KEY, qty integer, price numeric(12,2), name varchar(40), note text,
  created timestamp, created_tz timestamptz, day date, active boolean, uid uuid, doc jsonb, score float8);
INSERT INTO items
SELECT g, (g * 7919) % 100000, ((g * 104729) % 10000000) / 100.0, 'item ' || g,
       CASE g % 6 WHEN 0 THEN NULL WHEN 1 THEN '' WHEN 2 THEN E'tab\there, "quoted" \\ back\nnewline' WHEN 3 THEN 'NULL' WHEN 4 THEN E'\\N é 🚀' ELSE md5(g::text) END,
       timestamp '2020-01-01' + g * interval '1 second 1 microsecond', timestamptz '2020-01-01 00:00:00+00' + g * interval '17 seconds',
       date '2000-01-01' + (g % 9000)::int, g % 2 = 0, md5(g::text)::uuid, jsonb_build_object('id', g, 'tags', jsonb_build_array('a', g % 10)),
       CASE g % 10 WHEN 0 THEN 'NaN'::float8 WHEN 1 THEN 'Infinity' WHEN 2 THEN '-0' WHEN 3 THEN 1.7976931348623157e308 WHEN 4 THEN 1e-300 ELSE g / 7.0 END
FROM generate_series(1::bigint, :rows) g;
ANALYZE items;
