SELECT CASE WHEN a > 0 THEN 'pos' WHEN a < 0 THEN 'neg' ELSE 'zero' END, CASE s WHEN 1 THEN 'run' END,
  CAST(x AS double precision), y::varchar(10), z::timestamp with time zone, TIMESTAMP '2026-01-01T00:00:00Z',
  EXTRACT(epoch FROM time), EXTRACT('dow' FROM time), -5::int, (-5)::int, -9223372036854775808, 1e3, .5, 5., 2.5E-3