SELECT time_bucket('5 minutes', time) AS t, machine_id, avg(temperature)
FROM machines
WHERE time >= now() - INTERVAL '1 hour' AND site IN ('s1', 's2')
GROUP BY t, machine_id
ORDER BY t
LIMIT 100;
