WITH latest AS (
  SELECT hostname, max(time) AS time FROM cpu GROUP BY hostname
)
SELECT c.* FROM cpu c JOIN latest l ON c.hostname = l.hostname AND c.time = l.time
ORDER BY c.hostname;
