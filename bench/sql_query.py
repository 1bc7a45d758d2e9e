#!/usr/bin/env python3
"""SQL query set of issue #5 against Seaway, ClickHouse and InfluxDB over HTTP (bench/).

Driven by bench/sql_query.sh, which starts each system, loads it and calls this helper; the
standard library only.

  sql_query.py queries --dataset industrial [--scale 1000 --timestamps 720] [--set breadth]
      prints the query set, each query spelled three ways (Seaway SQL, ClickHouse SQL, InfluxQL);
      --set breadth: 34 questions beyond the issue's set, Seaway and ClickHouse only
  sql_query.py count  --system S --port P [--token T] --dataset D
      prints the number of rows the system holds (count(*) over the table)
  sql_query.py run    --system S --port P [--token T] --dataset D --runs N --out FILE [--query Q]
                      [--client http.client|socket]
      per query: one warm-up request (its answer is kept), then N timed requests; writes the
      timings and answers to FILE (JSON)
  sql_query.py report FILE... [--start-load X]
      checks that the answers agree (rows sorted, floats to 6 significant digits, timestamps
      in ns) and prints medians, ratios and the issue's targets; exit status 1 when answers
      differ, naming the query and the first differing row; with --start-load, says whether
      the run was quiet (load average < 1.5 at the start, and other processes under 10% of
      the CPU while each system was measured)

Time is one request end to end: from sending it to reading the last byte of the answer, on a
keep-alive connection (a fresh request each time; with --new-connections, a new TCP connection
per request, connect included). Parsing the answer is not timed. With --client socket the
request goes through a minimal HTTP/1.1 client on a plain socket instead of http.client (less
time of this client's own in every measurement).
"""
import argparse
import datetime
import http.client
import json
import os
import socket
import statistics
import sys
import time
import urllib.parse

SYSTEMS = ("seaway", "clickhouse", "influxdb")
START_NS = 1767225600 * 10**9  # 2026-01-01T00:00:00Z, the generator's first timestamp
INTERVAL_NS = 10 * 10**9

# What each dataset's queries refer to. `spread` is the field whose max - min per site and
# hour the per-group-hour query reports (a counter on industrial).
DATASETS = {
    "industrial": dict(
        table="machines", entity="machine_id", group="site",
        fields=["temperature", "vibration", "pressure", "current", "speed"],
        spread="parts", last=["temperature", "vibration", "status"], hot="temperature",
        # The walks stay within 36-74 degrees for seed 1; above 70: 9,888 of 720,000 rows.
        threshold=70, name=lambda i: "m%04d" % (i + 1),
        # For the breadth set: a value of `group`, a second tag with one of its values, a
        # LIKE prefix and a regex over the entity names.
        group_value="site02", tag2="model", tag2_value="press-p3", prefix="m00",
        regex="^m00[1-3]"),
    "cpu-only": dict(
        table="cpu", entity="hostname", group="region",
        fields=["usage_user", "usage_system", "usage_idle", "usage_nice", "usage_iowait"],
        spread="usage_system", last=["usage_user", "usage_system", "usage_idle"],
        hot="usage_user", threshold=90, name=lambda i: "host_%d" % i,
        group_value="us-west-2", tag2="os", tag2_value="Ubuntu16.04LTS", prefix="host_1",
        regex="^host_[1-3]"),
}


def iso(ns):
    t = datetime.datetime.fromtimestamp(ns // 10**9, datetime.timezone.utc)
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def ch_time(ns):
    t = datetime.datetime.fromtimestamp(ns // 10**9, datetime.timezone.utc)
    return "toDateTime('%s')" % t.strftime("%Y-%m-%d %H:%M:%S")


class Query:
    """One question asked three ways.

    kinds: one letter per output column: t (timestamp), s (text), n (number).
    influx_tags: tags InfluxDB returns per series (GROUP BY tag), put first in each row.
    influx_time: whether InfluxDB's time column is part of the answer (it is 0 for selectors
    and aggregates without GROUP BY time, and is then dropped).
    """

    def __init__(self, name, kinds, seaway, clickhouse, influxql, influx_tags=(),
                 influx_time=True):
        self.name, self.kinds = name, kinds
        self.text = {"seaway": seaway, "clickhouse": clickhouse, "influxdb": influxql}
        self.influx_tags, self.influx_time = list(influx_tags), influx_time


def query_set(dataset, scale, timestamps):
    d = DATASETS[dataset]
    tbl, ent, grp, f = d["table"], d["entity"], d["group"], d["fields"]
    chtbl = "bench." + tbl
    end = START_NS + timestamps * INTERVAL_NS
    # Everything the dataset holds, as one range every system is given.
    lo, hi = START_NS, ((end + 3600 * 10**9 - 1) // (3600 * 10**9)) * 3600 * 10**9
    # One hour from minute 30, when the data covers it (TSBS: 1 hour of data).
    h_lo = START_NS + 1800 * 10**9 if end >= START_NS + 5400 * 10**9 else START_NS
    h_hi = h_lo + 3600 * 10**9
    limit_hi = min(START_NS + 3600 * 10**9, hi)  # groupby-orderby-limit: up to minute 60
    one = d["name"](min(41, scale - 1))
    step = max(1, scale // 10)
    eight = [d["name"](i * step) for i in range(8) if i * step < scale]

    def sw_range(a, b):
        return "time >= '%s' AND time < '%s'" % (iso(a), iso(b))

    def ch_range(a, b):
        return "ts >= %s AND ts < %s" % (ch_time(a), ch_time(b))

    ifx_range = sw_range
    in_list = ", ".join("'%s'" % m for m in eight)
    ifx_or = " OR ".join("%s = '%s'" % (ent, m) for m in eight)
    max5 = ", ".join("max(%s)" % x for x in f)
    avg5 = ", ".join("avg(%s)" % x for x in f)
    mean5 = ", ".join("mean(%s)" % x for x in f)
    t, th, hot = "time_bucket('5m', time)", d["threshold"], d["hot"]
    sp = d["spread"]
    sw_last = ", ".join("last(%s, time)" % x for x in d["last"])
    ch_last = ", ".join("argMax(%s, ts)" % x for x in d["last"])
    ifx_last = ", ".join("last(%s)" % x for x in d["last"])
    return [
        Query("single-groupby-1-1-1", "tn",
              "SELECT %s AS t, max(%s) FROM %s WHERE %s = '%s' AND %s GROUP BY t ORDER BY t"
              % (t, f[0], tbl, ent, one, sw_range(h_lo, h_hi)),
              "SELECT toStartOfFiveMinute(ts) AS t, max(%s) FROM %s WHERE %s = '%s' AND %s "
              "GROUP BY t ORDER BY t" % (f[0], chtbl, ent, one, ch_range(h_lo, h_hi)),
              "SELECT max(%s) FROM %s WHERE %s = '%s' AND %s GROUP BY time(5m) fill(none)"
              % (f[0], tbl, ent, one, ifx_range(h_lo, h_hi))),
        Query("single-groupby-5-8-1", "tnnnnn",
              "SELECT %s AS t, %s FROM %s WHERE %s IN (%s) AND %s GROUP BY t ORDER BY t"
              % (t, max5, tbl, ent, in_list, sw_range(h_lo, h_hi)),
              "SELECT toStartOfFiveMinute(ts) AS t, %s FROM %s WHERE %s IN (%s) AND %s "
              "GROUP BY t ORDER BY t" % (max5, chtbl, ent, in_list, ch_range(h_lo, h_hi)),
              "SELECT %s FROM %s WHERE (%s) AND %s GROUP BY time(5m) fill(none)"
              % (max5, tbl, ifx_or, ifx_range(h_lo, h_hi))),
        Query("double-groupby-1", "stn",
              "SELECT %s, %s AS t, avg(%s) FROM %s WHERE %s GROUP BY %s, t ORDER BY %s, t"
              % (ent, t, f[0], tbl, sw_range(lo, hi), ent, ent),
              "SELECT %s, toStartOfFiveMinute(ts) AS t, avg(%s) FROM %s WHERE %s "
              "GROUP BY %s, t ORDER BY %s, t" % (ent, f[0], chtbl, ch_range(lo, hi), ent, ent),
              "SELECT mean(%s) FROM %s WHERE %s GROUP BY time(5m), %s fill(none)"
              % (f[0], tbl, ifx_range(lo, hi), ent), influx_tags=[ent]),
        Query("double-groupby-5", "stnnnnn",
              "SELECT %s, %s AS t, %s FROM %s WHERE %s GROUP BY %s, t ORDER BY %s, t"
              % (ent, t, avg5, tbl, sw_range(lo, hi), ent, ent),
              "SELECT %s, toStartOfFiveMinute(ts) AS t, %s FROM %s WHERE %s "
              "GROUP BY %s, t ORDER BY %s, t" % (ent, avg5, chtbl, ch_range(lo, hi), ent, ent),
              "SELECT %s FROM %s WHERE %s GROUP BY time(5m), %s fill(none)"
              % (mean5, tbl, ifx_range(lo, hi), ent), influx_tags=[ent]),
        Query("high-%s" % hot.split("_")[-1], "tsn",
              "SELECT time, %s, %s FROM %s WHERE %s > %s AND %s ORDER BY time, %s"
              % (ent, hot, tbl, hot, th, sw_range(lo, hi), ent),
              "SELECT ts, %s, %s FROM %s WHERE %s > %s AND %s ORDER BY ts, %s"
              % (ent, hot, chtbl, hot, th, ch_range(lo, hi), ent),
              "SELECT %s, %s FROM %s WHERE %s > %s AND %s"
              % (ent, hot, tbl, hot, th, ifx_range(lo, hi))),
        Query("lastpoint", "s" + "n" * len(d["last"]),
              "SELECT %s, %s FROM %s GROUP BY %s ORDER BY %s" % (ent, sw_last, tbl, ent, ent),
              "SELECT %s, %s FROM %s GROUP BY %s ORDER BY %s" % (ent, ch_last, chtbl, ent, ent),
              "SELECT %s FROM %s GROUP BY %s" % (ifx_last, tbl, ent),
              influx_tags=[ent], influx_time=False),
        Query("groupby-orderby-limit", "tn",
              "SELECT time_bucket('1m', time) AS t, max(%s) FROM %s WHERE %s "
              "GROUP BY t ORDER BY t DESC LIMIT 5" % (f[0], tbl, sw_range(lo, limit_hi)),
              "SELECT toStartOfMinute(ts) AS t, max(%s) FROM %s WHERE %s "
              "GROUP BY t ORDER BY t DESC LIMIT 5" % (f[0], chtbl, ch_range(lo, limit_hi)),
              "SELECT max(%s) FROM %s WHERE %s GROUP BY time(1m) fill(none) "
              "ORDER BY time DESC LIMIT 5" % (f[0], tbl, ifx_range(lo, limit_hi))),
        Query("per-%s-hour" % grp, "stnn",
              "SELECT %s, date_trunc('hour', time) AS h, avg(%s), max(%s) - min(%s) FROM %s "
              "WHERE %s GROUP BY %s, h ORDER BY %s, h"
              % (grp, f[0], sp, sp, tbl, sw_range(lo, hi), grp, grp),
              "SELECT %s, toStartOfHour(ts) AS h, avg(%s), max(%s) - min(%s) FROM %s "
              "WHERE %s GROUP BY %s, h ORDER BY %s, h"
              % (grp, f[0], sp, sp, chtbl, ch_range(lo, hi), grp, grp),
              "SELECT mean(%s), spread(%s) FROM %s WHERE %s GROUP BY time(1h), %s fill(none)"
              % (f[0], sp, tbl, ifx_range(lo, hi), grp), influx_tags=[grp]),
        Query("count-all", "nnn",
              "SELECT count(*), avg(%s), max(%s) FROM %s" % (f[0], f[4], tbl),
              "SELECT count(), avg(%s), max(%s) FROM %s" % (f[0], f[4], chtbl),
              "SELECT count(%s), mean(%s), max(%s) FROM %s" % (f[0], f[0], f[4], tbl),
              influx_time=False),
    ]


def breadth_set(dataset, scale, timestamps):
    """Questions beyond the issue's set, Seaway and ClickHouse only (no InfluxQL): tag and
    field filters, DISTINCT, percentiles, spreads, subqueries, joins, scalar functions,
    top-N, EXTRACT, UNION ALL. Not targets: a check that nothing common is slow."""
    d = DATASETS[dataset]
    tbl, ent, grp, f = d["table"], d["entity"], d["group"], d["fields"]
    tag2, chtbl, hot, th = d["tag2"], "bench." + d["table"], d["hot"], d["threshold"]
    end = START_NS + timestamps * INTERVAL_NS
    lo, hi = START_NS, ((end + 3600 * 10**9 - 1) // (3600 * 10**9)) * 3600 * 10**9
    # The last hour of data (or all of it), and ten minutes from minute 30 (or the start).
    l_lo = max(lo, end - 3600 * 10**9)
    m_lo = START_NS + 1800 * 10**9 if end >= START_NS + 2400 * 10**9 else START_NS
    m_hi = m_lo + 600 * 10**9
    one = d["name"](min(41, scale - 1))
    gv, t2v = d["group_value"], d["tag2_value"]

    def sw_range(a, b):
        return "time >= '%s' AND time < '%s'" % (iso(a), iso(b))

    def ch_range(a, b):
        return "ts >= %s AND ts < %s" % (ch_time(a), ch_time(b))

    def q(name, kinds, seaway, clickhouse):
        return Query(name, kinds, seaway, clickhouse.replace("FROM TBL", "FROM " + chtbl), None)

    T = "FROM " + tbl
    return [
        q("per-entity-5m-one-group", "stn",
          "SELECT %s, time_bucket('5m', time) AS t, avg(%s) %s WHERE %s = '%s' GROUP BY %s, t "
          "ORDER BY %s, t" % (ent, f[0], T, grp, gv, ent, ent),
          "SELECT %s, toStartOfFiveMinute(ts) AS t, avg(%s) FROM TBL WHERE %s = '%s' "
          "GROUP BY %s, t ORDER BY %s, t" % (ent, f[0], grp, gv, ent, ent)),
        q("hot-last-hour-having", "sn",
          "SELECT %s, max(%s) AS m %s WHERE %s GROUP BY %s HAVING max(%s) > %s "
          "ORDER BY m DESC, %s" % (ent, hot, T, sw_range(l_lo, hi), ent, hot, th, ent),
          "SELECT %s, max(%s) AS m FROM TBL WHERE %s GROUP BY %s HAVING max(%s) > %s "
          "ORDER BY m DESC, %s" % (ent, hot, ch_range(l_lo, hi), ent, hot, th, ent)),
        q("top10-avg", "sn",
          "SELECT %s, avg(%s) AS a %s GROUP BY %s ORDER BY a DESC, %s LIMIT 10"
          % (ent, f[1], T, ent, ent),
          "SELECT %s, avg(%s) AS a FROM TBL GROUP BY %s ORDER BY a DESC, %s LIMIT 10"
          % (ent, f[1], ent, ent)),
        q("distinct-per-group", "sn",
          "SELECT %s, count(DISTINCT %s) %s GROUP BY %s ORDER BY %s" % (grp, ent, T, grp, grp),
          "SELECT %s, uniqExact(%s) FROM TBL GROUP BY %s ORDER BY %s" % (grp, ent, grp, grp)),
        q("p90-per-group", "sn",
          "SELECT %s, percentile_disc(0.9) WITHIN GROUP (ORDER BY %s) %s GROUP BY %s "
          "ORDER BY %s" % (grp, f[0], T, grp, grp),
          # percentile_disc as PostgreSQL defines it takes the ceil(0.9 n)-th smallest value;
          # quantileExact(q) the floor(q n)+1-th, another one when 0.9 n is whole (n a
          # multiple of 10). A level a hair below 0.9 gives PostgreSQL's for any n < 10^8.
          "SELECT %s, quantileExact(0.899999999)(%s) FROM TBL GROUP BY %s ORDER BY %s"
          % (grp, f[0], grp, grp)),
        q("stddev-per-two-tags", "ssn",
          "SELECT %s, %s, stddev(%s) %s GROUP BY %s, %s ORDER BY %s, %s"
          % (grp, tag2, f[2], T, grp, tag2, grp, tag2),
          "SELECT %s, %s, stddevSamp(%s) FROM TBL GROUP BY %s, %s ORDER BY %s, %s"
          % (grp, tag2, f[2], grp, tag2, grp, tag2)),
        q("avg-count-per-tag", "snn",
          "SELECT %s, avg(%s), count(*) %s GROUP BY %s ORDER BY %s" % (tag2, f[4], T, tag2, tag2),
          "SELECT %s, avg(%s), count() FROM TBL GROUP BY %s ORDER BY %s"
          % (tag2, f[4], tag2, tag2)),
        q("like-count", "n",
          "SELECT count(*) %s WHERE %s LIKE '%s%%'" % (T, ent, d["prefix"]),
          "SELECT count() FROM TBL WHERE %s LIKE '%s%%'" % (ent, d["prefix"])),
        q("regex-count", "n",
          "SELECT count(*) %s WHERE %s ~ '%s'" % (T, ent, d["regex"]),
          "SELECT count() FROM TBL WHERE match(%s, '%s')" % (ent, d["regex"])),
        q("or-tags", "nn",
          "SELECT count(*), avg(%s) %s WHERE %s = '%s' OR %s = '%s'"
          % (f[3], T, grp, gv, tag2, t2v),
          "SELECT count(), avg(%s) FROM TBL WHERE %s = '%s' OR %s = '%s'"
          % (f[3], grp, gv, tag2, t2v)),
        q("raw-10min-one", "tsnn",
          "SELECT time, %s, %s, %s %s WHERE %s = '%s' AND %s ORDER BY time"
          % (ent, f[0], f[1], T, ent, one, sw_range(m_lo, m_hi)),
          "SELECT ts, %s, %s, %s FROM TBL WHERE %s = '%s' AND %s ORDER BY ts"
          % (ent, f[0], f[1], ent, one, ch_range(m_lo, m_hi))),
        q("last10-one", "tn",
          "SELECT time, %s %s WHERE %s = '%s' ORDER BY time DESC LIMIT 10" % (f[0], T, ent, one),
          "SELECT ts, %s FROM TBL WHERE %s = '%s' ORDER BY ts DESC LIMIT 10" % (f[0], ent, one)),
        q("daily-stats", "stnnnnnn",
          "SELECT %s, date_trunc('day', time) AS d, min(%s), max(%s), avg(%s), min(%s), max(%s), "
          "avg(%s) %s GROUP BY %s, d ORDER BY %s, d"
          % (ent, f[0], f[0], f[0], f[2], f[2], f[2], T, ent, ent),
          "SELECT %s, toStartOfDay(ts) AS d, min(%s), max(%s), avg(%s), min(%s), max(%s), "
          "avg(%s) FROM TBL GROUP BY %s, d ORDER BY %s, d"
          % (ent, f[0], f[0], f[0], f[2], f[2], f[2], ent, ent)),
        q("spread-sum-subquery", "sn",
          "SELECT %s, sum(p) FROM (SELECT %s, %s, max(%s) - min(%s) AS p %s GROUP BY %s, %s) "
          "AS s GROUP BY %s ORDER BY %s" % (grp, grp, ent, f[1], f[1], T, grp, ent, grp, grp),
          "SELECT %s, sum(p) FROM (SELECT %s, %s, max(%s) - min(%s) AS p FROM TBL "
          "GROUP BY %s, %s) GROUP BY %s ORDER BY %s"
          % (grp, grp, ent, f[1], f[1], grp, ent, grp, grp)),
        q("field-vs-field", "n",
          "SELECT count(*) %s WHERE %s > %s OR %s < %s" % (T, hot, th, f[1], f[2]),
          "SELECT count() FROM TBL WHERE %s > %s OR %s < %s" % (hot, th, f[1], f[2])),
        q("expression-avg", "n",
          "SELECT avg(%s * 1.8 + 32) %s" % (f[0], T),
          "SELECT avg(%s * 1.8 + 32) FROM TBL" % f[0]),
        q("first-last", "snn",
          "SELECT %s, first(%s, time), last(%s, time) %s GROUP BY %s ORDER BY %s"
          % (ent, f[0], f[0], T, ent, ent),
          "SELECT %s, argMin(%s, ts), argMax(%s, ts) FROM TBL GROUP BY %s ORDER BY %s"
          % (ent, f[0], f[0], ent, ent)),
        q("top-rows-by-field", "tsn",
          "SELECT time, %s, %s %s ORDER BY %s DESC, time, %s LIMIT 10" % (ent, f[0], T, f[0], ent),
          "SELECT ts, %s, %s FROM TBL ORDER BY %s DESC, ts, %s LIMIT 10" % (ent, f[0], f[0], ent)),
        q("newest-rows", "tsn",
          "SELECT time, %s, %s %s ORDER BY time DESC, %s LIMIT 5" % (ent, f[0], T, ent),
          "SELECT ts, %s, %s FROM TBL ORDER BY ts DESC, %s LIMIT 5" % (ent, f[0], ent)),
        q("count-last-hour", "n",
          "SELECT count(*) %s WHERE %s" % (T, sw_range(l_lo, hi)),
          "SELECT count() FROM TBL WHERE %s" % ch_range(l_lo, hi)),
        q("distinct-tag", "s",
          "SELECT DISTINCT %s %s ORDER BY %s" % (tag2, T, tag2),
          "SELECT DISTINCT %s FROM TBL ORDER BY %s" % (tag2, tag2)),
        q("in-subquery", "n",
          "SELECT count(*) %s WHERE %s IN (SELECT %s %s WHERE %s > %s)"
          % (T, ent, ent, T, hot, th),
          "SELECT count() FROM TBL WHERE %s IN (SELECT %s FROM TBL WHERE %s > %s)"
          % (ent, ent, hot, th)),
        q("cte-join", "nnn",
          "WITH a AS (SELECT %s, avg(%s) AS x %s GROUP BY %s), b AS (SELECT %s, max(%s) AS y %s "
          "GROUP BY %s) SELECT count(*), avg(x), avg(y) FROM a JOIN b ON a.%s = b.%s"
          % (ent, f[0], T, ent, ent, f[1], T, ent, ent, ent),
          "SELECT count(), avg(x), avg(y) FROM (SELECT %s, avg(%s) AS x FROM TBL GROUP BY %s) "
          "ALL INNER JOIN (SELECT %s, max(%s) AS y FROM TBL GROUP BY %s) USING %s"
          % (ent, f[0], ent, ent, f[1], ent, ent)),
        q("extract-minute", "nn",
          "SELECT extract(minute FROM time) AS m, avg(%s) %s GROUP BY m ORDER BY m" % (f[4], T),
          "SELECT toMinute(ts) AS m, avg(%s) FROM TBL GROUP BY m ORDER BY m" % f[4]),
        q("floor-group", "nn",
          "SELECT floor(%s) AS r, count(*) %s GROUP BY r ORDER BY r" % (f[0], T),
          "SELECT floor(%s) AS r, count() FROM TBL GROUP BY r ORDER BY r" % f[0]),
        q("abs-filter", "n",
          "SELECT count(*) %s WHERE abs(%s - %s) < 2" % (T, hot, th - 15),
          "SELECT count() FROM TBL WHERE abs(%s - %s) < 2" % (hot, th - 15)),
        q("avg-stddev-variance", "nnn",
          "SELECT avg(%s), stddev(%s), variance(%s) %s" % (f[0], f[0], f[0], T),
          "SELECT avg(%s), stddevSamp(%s), varSamp(%s) FROM TBL" % (f[0], f[0], f[0])),
        q("group-by-time", "tn",
          "SELECT time, avg(%s) %s GROUP BY time ORDER BY time" % (f[0], T),
          "SELECT ts, avg(%s) FROM TBL GROUP BY ts ORDER BY ts" % f[0]),
        q("distinct-per-minute", "tn",
          "SELECT time_bucket('1m', time) AS t, count(DISTINCT %s) %s GROUP BY t ORDER BY t"
          % (ent, T),
          "SELECT toStartOfMinute(ts) AS t, uniqExact(%s) FROM TBL GROUP BY t ORDER BY t" % ent),
        q("upper-group-limit", "sn",
          "SELECT upper(%s) AS u, count(*) %s GROUP BY u ORDER BY u LIMIT 5" % (ent, T),
          "SELECT upper(%s) AS u, count() FROM TBL GROUP BY u ORDER BY u LIMIT 5" % ent),
        q("case-sum", "sn",
          "SELECT %s, sum(CASE WHEN %s > %s THEN 1 ELSE 0 END) %s GROUP BY %s ORDER BY %s"
          % (grp, hot, th, T, grp, grp),
          "SELECT %s, sum(if(%s > %s, 1, 0)) FROM TBL GROUP BY %s ORDER BY %s"
          % (grp, hot, th, grp, grp)),
        q("spread-top5", "sn",
          "SELECT %s, max(%s) - min(%s) AS r %s GROUP BY %s ORDER BY r DESC, %s LIMIT 5"
          % (ent, f[0], f[0], T, ent, ent),
          "SELECT %s, max(%s) - min(%s) AS r FROM TBL GROUP BY %s ORDER BY r DESC, %s LIMIT 5"
          % (ent, f[0], f[0], ent, ent)),
        q("union-all", "sn",
          "SELECT '%s' AS k, count(*) %s WHERE %s = '%s' UNION ALL SELECT 'other' AS k, "
          "count(*) %s WHERE %s <> '%s'" % (gv, T, grp, gv, T, grp, gv),
          "SELECT '%s' AS k, count() FROM TBL WHERE %s = '%s' UNION ALL SELECT 'other' AS k, "
          "count() FROM TBL WHERE %s != '%s'" % (gv, grp, gv, grp, gv)),
        q("one-group-raw-export", "tsnn",
          "SELECT time, %s, %s, %s %s WHERE %s = '%s' AND %s ORDER BY %s, time"
          % (ent, f[0], f[3], T, grp, gv, sw_range(m_lo, m_hi), ent),
          "SELECT ts, %s, %s, %s FROM TBL WHERE %s = '%s' AND %s ORDER BY %s, ts"
          % (ent, f[0], f[3], grp, gv, ch_range(m_lo, m_hi), ent)),
    ]


QUERY_SETS = {"standard": query_set, "breadth": breadth_set}


# --- talking to the systems ---------------------------------------------------------------------

class Failure(Exception):
    pass


class SocketConnection:
    """A minimal HTTP/1.1 keep-alive connection on a plain socket (--client socket).

    http.client spends Python time on every request (header objects, buffered reads; on the
    2-core machine of docs/BENCHMARKS.md it adds about 0.07 ms to a 0.3 ms answer), a large
    share of the smallest answers' time; this sends the request in one call and reads the
    answer with as few calls and as little Python as it can: a status line, headers, then a
    Content-Length body or chunks. Same interface as http.client's request/getresponse for
    what Client uses.
    """

    class Response:
        def __init__(self, status, data):
            self.status, self._data = status, data

        def read(self):
            return self._data

    def __init__(self, host, port, timeout):
        self.host, self.port, self.timeout = host, port, timeout
        self.sock, self.buf, self.status, self.data = None, bytearray(), 0, b""

    def close(self):
        if self.sock is not None:
            self.sock.close()
        self.sock, self.buf = None, bytearray()

    def request(self, method, path, body, headers):
        if self.sock is None:
            self.sock = socket.create_connection((self.host, self.port), self.timeout)
            self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        head = "%s %s HTTP/1.1\r\nHost: %s:%d\r\nContent-Length: %d\r\n" % (
            method, path, self.host, self.port, len(body))
        head += "".join("%s: %s\r\n" % kv for kv in headers.items())
        self.sock.sendall(head.encode() + b"\r\n" + body)
        self._read_response()

    def getresponse(self):
        return SocketConnection.Response(self.status, self.data)

    def _recv(self):
        chunk = self.sock.recv(1 << 20)
        if not chunk:
            self.close()
            raise ConnectionError("the server closed the connection")
        self.buf += chunk  # a bytearray: appending is amortised O(1)

    def _read_response(self):
        while True:
            end = self.buf.find(b"\r\n\r\n")
            if end >= 0:
                break
            self._recv()
        lines = self.buf[:end].decode("latin-1").split("\r\n")
        self.buf = self.buf[end + 4:]
        self.status = int(lines[0].split(" ", 2)[1])
        fields = {}
        for line in lines[1:]:
            k, _, v = line.partition(":")
            fields[k.strip().lower()] = v.strip().lower()
        if "content-length" in fields:
            n = int(fields["content-length"])
            while len(self.buf) < n:
                self._recv()
            self.data, self.buf = bytes(self.buf[:n]), self.buf[n:]
        elif fields.get("transfer-encoding") == "chunked":
            parts, pos = [], 0
            while True:
                eol = self.buf.find(b"\r\n", pos)
                if eol < 0:
                    self._recv()
                    continue
                size = int(self.buf[pos:eol].split(b";")[0], 16)
                while len(self.buf) < eol + 2 + size + 2:
                    self._recv()
                if size == 0:  # no trailers expected from these servers
                    self.buf = self.buf[eol + 4:]
                    break
                parts.append(self.buf[eol + 2:eol + 2 + size])
                pos = eol + 2 + size + 2
            self.data = b"".join(parts)
        else:
            raise http.client.HTTPException("an answer without Content-Length or chunks")
        if fields.get("connection") == "close":
            self.close()


class Client:
    """One keep-alive HTTP connection to one system; `ask` sends one query."""

    def __init__(self, system, port, token=None, new_connections=False, client="http.client"):
        self.system, self.port, self.token = system, port, token
        self.new_connections = new_connections
        if client == "socket":
            self.conn = SocketConnection("127.0.0.1", port, timeout=300)
        else:
            self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)

    def _request(self, query_text):
        if self.system == "seaway":
            body = json.dumps({"query": query_text, "database": "bench"}).encode()
            headers = {"Content-Type": "application/json",
                       "Authorization": "Token " + self.token}
            path = "/api/v1/sql"
        elif self.system == "clickhouse":
            body = (query_text + " FORMAT JSONCompact").encode()
            headers = {"Content-Type": "text/plain"}
            path = "/?database=bench&output_format_json_quote_64bit_integers=0"
        else:
            body = urllib.parse.urlencode({"db": "bench", "epoch": "ns", "q": query_text}).encode()
            headers = {"Content-Type": "application/x-www-form-urlencoded"}
            path = "/query"
        return path, body, headers

    def ask(self, query_text):
        """Returns (seconds, status, body bytes) of one request."""
        path, body, headers = self._request(query_text)
        for attempt in (0, 1):  # one retry when the server closed the idle connection
            try:
                start = time.perf_counter()
                self.conn.request("POST", path, body, headers)
                resp = self.conn.getresponse()
                data = resp.read()
                seconds = time.perf_counter() - start
                if self.new_connections:
                    self.conn.close()  # the next request connects anew (timed)
                return seconds, resp.status, data
            except (http.client.HTTPException, ConnectionError):
                self.conn.close()
                if attempt:
                    raise

    def rows(self, query, data):
        """The answer's rows as lists of raw JSON values, in the query's column order."""
        doc = json.loads(data)
        if self.system == "seaway":
            if "error" in doc:
                raise Failure("seaway: %s: %s" % (doc.get("code"), doc["error"]))
            return doc["rows"]
        if self.system == "clickhouse":
            return doc["data"]
        if "error" in doc:
            raise Failure("influxdb: " + doc["error"])
        result = doc["results"][0]
        if "error" in result:
            raise Failure("influxdb: " + result["error"])
        if result.get("partial"):
            raise Failure("influxdb: partial result (a row or series limit was hit)")
        rows = []
        for series in result.get("series", []):
            tags = [series.get("tags", {}).get(k) for k in query.influx_tags]
            for v in series["values"]:
                rows.append(tags + (v if query.influx_time else v[1:]))
        return rows


def run_query(client, query_text, query):
    seconds, status, data = client.ask(query_text)
    if status != 200:
        raise Failure("%s answered HTTP %d: %s" % (client.system, status, data[:2000].decode(
            errors="replace")))
    return seconds, client.rows(query, data)


# --- normalising and comparing ------------------------------------------------------------------

def to_ns(v):
    if isinstance(v, int):
        return v
    if isinstance(v, float):
        return int(round(v))
    text = v.strip().replace(" ", "T")
    frac_ns = 0
    if text.endswith("Z"):
        text = text[:-1]
    elif text.endswith("+00:00") or text.endswith("+00"):
        text = text.rsplit("+", 1)[0]
    if "." in text:
        text, frac = text.split(".", 1)
        frac_ns = int((frac + "000000000")[:9])
    t = datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S").replace(
        tzinfo=datetime.timezone.utc)
    return int(t.timestamp()) * 10**9 + frac_ns


def sig6(v):
    return float("%.6g" % v)


def normalise(kinds, rows):
    out = []
    for row in rows:
        if len(row) != len(kinds):
            raise Failure("a row has %d columns, expected %d: %r" % (len(row), len(kinds), row))
        norm = []
        for k, v in zip(kinds, row):
            if v is None:
                norm.append(None)
            elif k == "t":
                norm.append(to_ns(v))
            elif k == "n":
                if isinstance(v, str):  # non-finite numbers come as text
                    v = float(v)
                norm.append(v)
            else:
                norm.append(str(v))
        out.append(norm)

    def key(row):
        return tuple((0, 0) if v is None else (1, sig6(v) if isinstance(v, float) else v)
                     for v in row)
    out.sort(key=key)
    return out


def same_value(a, b):
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        if isinstance(a, int) and isinstance(b, int):
            return a == b
        if sig6(a) == sig6(b):
            return True
        return abs(a - b) <= 1e-9 * max(abs(a), abs(b))  # a rounding boundary between them
    return a == b


def show(kinds, row):
    out = []
    for k, v in zip(kinds, row):
        if v is None:
            out.append("NULL")
        elif k == "t":
            out.append("%s (%d)" % (iso(v) if v % 10**9 == 0 else v, v))
        elif isinstance(v, float):
            out.append("%.6g" % v)
        else:
            out.append(str(v))
    return "[" + ", ".join(out) + "]"


def first_difference(kinds, a, b):
    """None when the answers agree, else a description of the first difference."""
    for i, (ra, rb) in enumerate(zip(a, b)):
        if not all(same_value(x, y) for x, y in zip(ra, rb)):
            return i, ra, rb
    if len(a) != len(b):
        i = min(len(a), len(b))
        return i, a[i] if i < len(a) else None, b[i] if i < len(b) else None
    return None


# --- commands -----------------------------------------------------------------------------------

def cmd_queries(args):
    for q in QUERY_SETS[args.set](args.dataset, args.scale, args.timestamps):
        print("-- %s" % q.name)
        for s in SYSTEMS:
            if q.text[s] is not None:
                print("  %-10s %s" % (s, q.text[s]))


def cmd_count(args):
    d = DATASETS[args.dataset]
    q = Query("count", "n",
              "SELECT count(*) FROM %s" % d["table"],
              "SELECT count() FROM bench.%s" % d["table"],
              "SELECT count(%s) FROM %s" % (d["fields"][0], d["table"]), influx_time=False)
    client = Client(args.system, args.port, args.token)
    try:
        _, rows = run_query(client, q.text[args.system], q)
    except Failure as e:
        print("sql_query: count: %s" % e, file=sys.stderr)
        return 1
    print(rows[0][0] if rows else 0)
    return 0


def cpu_ticks(pid):
    """(busy ticks of the whole machine, ticks of process `pid` and its threads)."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    busy = sum(v) - v[3] - (v[4] if len(v) > 4 else 0)  # minus idle and iowait
    own = 0
    if pid:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        own = int(fields[11]) + int(fields[12])  # utime, stime
    return busy, own


def cmd_run(args):
    client = Client(args.system, args.port, args.token, args.new_connections, args.client)
    doc = {"system": args.system, "runs": args.runs, "dataset": args.dataset, "queries": {}}
    hz, ncpu = os.sysconf("SC_CLK_TCK"), os.cpu_count()
    busy0, server0 = cpu_ticks(args.pid)
    self0, wall0 = sum(os.times()[:2]), time.monotonic()
    for q in QUERY_SETS[args.set](args.dataset, args.scale, args.timestamps):
        if args.query and q.name not in args.query:
            continue
        text = q.text[args.system]
        if text is None:
            continue  # no spelling for this system (the breadth set has no InfluxQL)
        entry = {"text": text, "kinds": q.kinds}
        try:
            warm, rows = run_query(client, text, q)
            times = []
            for _ in range(args.runs):
                seconds, status, data = client.ask(text)
                if status != 200:
                    raise Failure("HTTP %d in a timed run: %s" % (status, data[:500]))
                if args.check_each:
                    client.rows(q, data)
                times.append(seconds * 1000)
            entry.update(warmup_ms=warm * 1000, ms=times, median_ms=statistics.median(times),
                         rows=normalise(q.kinds, rows))
            print("  %-24s %9.2f ms median of %d (warm-up %.2f ms), %d rows"
                  % (q.name, entry["median_ms"], args.runs, warm * 1000, len(rows)), flush=True)
        except (Failure, OSError, http.client.HTTPException, ValueError, KeyError) as e:
            entry["error"] = str(e)
            print("  %-24s FAILED: %s" % (q.name, e), flush=True)
        doc["queries"][q.name] = entry
    busy1, server1 = cpu_ticks(args.pid)
    wall = time.monotonic() - wall0
    helper = sum(os.times()[:2]) - self0
    server = (server1 - server0) / hz
    other = max(0.0, (busy1 - busy0) / hz - server - helper)
    doc["cpu"] = dict(wall_s=wall, server_s=server, helper_s=helper, other_s=other,
                      other_share=other / (wall * ncpu))
    print("  CPU over %.1f s: server %.1f s, this client %.1f s, other processes %.1f s (%.0f%% "
          "of the machine's %d cores)" % (wall, server, helper, other,
                                          100 * other / (wall * ncpu), ncpu))
    with open(args.out, "w") as f:
        json.dump(doc, f)
    return 0


def cmd_report(args):
    docs = {}
    for path in args.files:
        with open(path) as f:
            d = json.load(f)
        docs[d["system"]] = d
    systems = [s for s in SYSTEMS if s in docs]
    names = []
    for s in systems:
        names += [n for n in docs[s]["queries"] if n not in names]

    def median(s, n):
        e = docs.get(s, {}).get("queries", {}).get(n)
        return e.get("median_ms") if e else None

    # Agreement: every system against the first that answered (ClickHouse when it did).
    problems = []
    ref_order = ["clickhouse", "influxdb", "seaway"]
    for n in names:
        answered = [s for s in ref_order if s in docs and "rows" in docs[s]["queries"].get(n, {})]
        for s in systems:
            e = docs[s]["queries"].get(n)
            if e is None:
                continue
            if "error" in e:
                problems.append("%s: %s failed: %s" % (n, s, e["error"]))
        if not answered:
            continue
        ref = answered[0]
        re = docs[ref]["queries"][n]
        for s in answered[1:]:
            e = docs[s]["queries"][n]
            diff = first_difference(re["kinds"], re["rows"], e["rows"])
            if diff:
                i, ra, rb = diff
                problems.append(
                    "%s: %s and %s disagree (%d vs %d rows); first difference at sorted row %d:\n"
                    "      %-10s %s\n      %-10s %s\n      %-10s %s\n      %-10s %s"
                    % (n, ref, s, len(re["rows"]), len(e["rows"]), i,
                       ref, show(re["kinds"], ra) if ra else "(no row)",
                       s, show(e["kinds"], rb) if rb else "(no row)",
                       ref + ":", re["text"], s + ":", e["text"]))
        if not re["rows"]:
            problems.append("%s: every answer is empty: the query selects nothing" % n)

    fmt = "| %-22s | %5s | %9s | %9s | %9s | %7s | %7s | %s"
    print(fmt % ("query", "rows", "Seaway ms", "CH ms", "Influx ms", "SW/CH", "IFX/SW",
                 "targets") + " |")
    print(fmt % ("---", "---:", "---:", "---:", "---:", "---:", "---:", "---") + " |")
    met_all = True
    for n in names:
        sw, ch, ifx = median("seaway", n), median("clickhouse", n), median("influxdb", n)
        nrows = next((len(docs[s]["queries"][n]["rows"]) for s in ref_order
                      if s in docs and "rows" in docs[s]["queries"].get(n, {})), "")
        sw_ch = "%.2f" % (sw / ch) if sw and ch else ""
        ifx_sw = "%.1f" % (ifx / sw) if sw and ifx else ""
        verdict = []
        if sw is not None:
            if ch is not None:
                verdict.append("<=CH " + ("yes" if sw <= ch else "NO"))
            if ifx is not None:
                verdict.append("<=IFX/5 " + ("yes" if sw * 5 <= ifx else "NO"))
            if n == "lastpoint":
                verdict.append("<=5ms " + ("yes" if sw <= 5 else "NO"))
            met_all = met_all and all(v.endswith("yes") for v in verdict)
        else:
            met_all = False

        def ms(v):
            return "%.2f" % v if v is not None else "-"
        print(fmt % (n, nrows, ms(sw), ms(ch), ms(ifx), sw_ch, ifx_sw, ", ".join(verdict))
              + " |")
    print()
    print("SW/CH <= 1 and IFX/SW >= 5 meet the issue's targets (medians of %s runs per system)."
          % "/".join(str(docs[s]["runs"]) for s in systems))
    for s in systems:
        c = docs[s].get("cpu")
        if c:
            print("While %s was measured (%.1f s), other processes used %.1f CPU-seconds (%.0f%% "
                  "of the machine)." % (s, c["wall_s"], c["other_s"], 100 * c["other_share"]))
    if args.start_load is not None:
        busy = [s for s in systems if docs[s].get("cpu", {}).get("other_share", 0) > 0.10]
        why = []
        if args.start_load >= 1.5:
            why.append("load average %.2f at the start" % args.start_load)
        if busy:
            why.append("other processes took over 10%% of the CPU while %s was measured"
                       % ", ".join(busy))
        print("Quiet run: " + ("NO (%s)." % "; ".join(why) if why else
                               "yes (load average %.2f at the start, other processes under 10%% "
                               "of the CPU during every measurement)." % args.start_load))
    if "seaway" not in docs:
        print("Seaway was not measured in this run.")
    elif met_all and not problems:
        print("Every target met.")
    if problems:
        print()
        print("ANSWERS DIFFER OR FAILED (%d):" % len(problems))
        for p in problems:
            print("  " + p)
        return 1
    print("Answers agree: %s." % ", ".join(systems))
    return 0


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    for name in ("queries", "count", "run"):
        sp = sub.add_parser(name)
        sp.add_argument("--dataset", default="industrial", choices=sorted(DATASETS))
        sp.add_argument("--scale", type=int, default=1000)
        sp.add_argument("--timestamps", type=int, default=720)
        if name != "count":
            sp.add_argument("--set", default="standard", choices=sorted(QUERY_SETS),
                            help="the issue's queries (standard) or the breadth set")
        if name != "queries":
            sp.add_argument("--system", required=True, choices=SYSTEMS)
            sp.add_argument("--port", type=int, required=True)
            sp.add_argument("--token")
        if name == "run":
            sp.add_argument("--runs", type=int, default=15)
            sp.add_argument("--out", required=True)
            sp.add_argument("--query", action="append", help="only this query (repeatable)")
            sp.add_argument("--new-connections", action="store_true",
                            help="one TCP connection per request instead of keep-alive")
            sp.add_argument("--client", choices=("http.client", "socket"), default="http.client",
                            help="how requests are sent: Python's http.client, or a minimal "
                            "HTTP/1.1 client on a plain socket (less client time per request)")
            sp.add_argument("--pid", type=int, help="the server's process, for CPU accounting")
            sp.add_argument("--check-each", action="store_true",
                            help="parse every timed answer too, not only the warm-up's")
    sp = sub.add_parser("report")
    sp.add_argument("files", nargs="+")
    sp.add_argument("--start-load", type=float,
                    help="1-minute load average when the run began, for the quiet-run verdict")
    args = p.parse_args()
    return {"queries": cmd_queries, "count": cmd_count, "run": cmd_run,
            "report": cmd_report}[args.cmd](args)


if __name__ == "__main__":
    sys.exit(main())
