SELECT date_trunc('day', time) AS day, machine_id, min(temperature), max(temperature),
  percentile_cont(0.95) WITHIN GROUP (ORDER BY temperature DESC NULLS LAST) AS p95,
  percentile_cont(temperature, 0.5), count(DISTINCT line), count(*)
FROM plant.machines GROUP BY 1, 2 HAVING count(*) > 10 ORDER BY day DESC LIMIT 10 OFFSET 5