#!/usr/bin/python3
"""Malformed and illegal MQTT input, sent on raw sockets while 100 good clients keep working.

Run (Debian's /usr/bin/python3, which has paho 1.6.1):
    /usr/bin/python3 tests/e2e/mqtt/malformed.py --broker mosquitto
    /usr/bin/python3 tests/e2e/mqtt/malformed.py --broker seaway [--seaway-bin bin/seaway]
    ... -k substring     only rows whose "name[version]" contains it (the load still runs)
    ... --list           print the table
    ... --clients N      good clients (default 100: 50 QoS 1 publishers, 50 subscribers)

Every row is bytes built by hand (mqttraw.py). The expectation is the spec's, never weakened:
  * the broker closes the offending connection within 3 s. Before closing it may send only
    an error: a CONNACK with a failure code (3.1.1: non-zero return code; 5.0: >= 0x80) for a bad
    CONNECT, or in 5.0 a DISCONNECT with a reason code >= 0x80. A few rows require a specific
    CONNACK (3.1.1 [MQTT-3.1.2-2] return code 0x01, [MQTT-3.1.3-9] 0x02).
  * rows after a good CONNECT carry a Will: closing the connection for a protocol error is not a
    normal DISCONNECT, so the Will MUST be published ([MQTT-3.1.2-8], both versions).
  * nothing an illegal PUBLISH carried reaches a subscriber (a sentinel subscribes mal/<run>/#).
  * "truncated CONNECT" rows are one row each but run for every byte offset.
Meanwhile N/2 paho publishers (QoS 1, ~4 msg/s each, half 3.1.1 and half 5.0) and N/2 paho
subscribers (plus one wildcard subscriber) run throughout; at the end none of them may have seen a
disconnect and every acknowledged QoS 1 message must have reached its subscribers. The broker must
still accept new connections (both versions) at the end.

Ill-formed topic filters ("a#", "a/#/b", "a+", "", "$share/g+/x"): the filter rules bind the
sender, and receiving a breach is a protocol violation that MUST close the connection (3.1.1
[MQTT-4.8.0-1]; 5.0 [MQTT-4.13.1-1], Malformed Packet 0x81 / Protocol Error 0x82). A SUBACK
failure code is not an answer here: 5.0's 0x8F means "the Topic Filter is correctly formed but is
not allowed for this Client", and 3.1.1 has no exception to 4.8. Mosquitto closes, as expected.

Rows are printed PASS / FAIL with the spec reference. With --broker mosquitto, the rows listed in
KNOWN_MOSQUITTO below are printed as XFAIL ("known mosquitto deviation") and do not fail the run;
for seaway every row counts. Exit code 1 on any failure.

Known Mosquitto 2.0.11 deviations (mosquitto more lenient than the spec; KNOWN_MOSQUITTO below):
  connect_v5_auth_data_without_method[5.0]  Authentication Data without Method is a protocol
      error (5.0 3.1.2.11.10): accepted with CONNACK 0x00.
  second_connect[both]  closed, as [MQTT-3.1.0-2] requires, but the first CONNECT's Will is
      discarded instead of published ([MQTT-3.1.2-8]; 3.1.2.5 lists "the Server closes the
      Network Connection because of a protocol error").
  pingreq_flags_0001[both], puback_flags_0001[both]  reserved fixed-header flags ignored
      ([MQTT-2.2.2-2]: invalid flags MUST close).
  publish_qos0_dup[both]  QoS 0 PUBLISH with DUP=1 accepted and forwarded ([MQTT-3.3.1-2] with
      [MQTT-4.8.0-1] 3.1.1 / 4.13 5.0: a protocol violation MUST close).
  publish_v5_subscription_identifier[5.0]  client PUBLISH with a Subscription Identifier
      accepted and forwarded ([MQTT-3.3.4-6]).
  publish_v5_response_topic_wildcard[5.0]  Response Topic "r/#" accepted ([MQTT-3.3.2-14]).
  subscribe_v5_shared_no_local[5.0]  No Local on a shared subscription granted ([MQTT-3.8.3-4]).
  subscribe_v5_shared_without_filter[5.0]  "$share/grp" (no "/filter") granted as an ordinary
      filter ([MQTT-4.8.2-2]).
"""

import argparse
import concurrent.futures
import os
import random
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import mqttraw as raw  # noqa: E402
from broker import Broker  # noqa: E402
from mqttclients import V311, V5, VERSION_NAMES, PahoClient, check  # noqa: E402

BOTH = (V311, V5)
CLOSE_TIMEOUT = 3.0

# label -> what mosquitto 2.0.11 does instead. Filled from runs against mosquitto 2.0.11.
KNOWN_MOSQUITTO = {
    "connect_v5_auth_data_without_method[5.0]": "accepts the CONNECT (CONNACK 0x00)",
    "second_connect[3.1.1]": "closes the connection but drops the first CONNECT's will",
    "second_connect[5.0]": "closes the connection but drops the first CONNECT's will",
    "pingreq_flags_0001[3.1.1]": "ignores the reserved flags and answers PINGRESP",
    "pingreq_flags_0001[5.0]": "ignores the reserved flags and answers PINGRESP",
    "puback_flags_0001[3.1.1]": "ignores the reserved flags",
    "puback_flags_0001[5.0]": "ignores the reserved flags",
    "publish_qos0_dup[3.1.1]": "accepts and forwards a QoS 0 PUBLISH with DUP set",
    "publish_qos0_dup[5.0]": "accepts and forwards a QoS 0 PUBLISH with DUP set",
    "publish_v5_subscription_identifier[5.0]": "accepts and forwards the PUBLISH",
    "publish_v5_response_topic_wildcard[5.0]": "accepts and forwards the PUBLISH",
    "subscribe_v5_shared_no_local[5.0]": "grants the subscription (SUBACK 0x00)",
    "subscribe_v5_shared_without_filter[5.0]": "treats $share/grp as an ordinary filter "
                                               "(SUBACK 0x00)",
}


class RowCtx:
    def __init__(self, run, rid, v, broker):
        self.v, self.broker, self.rid = v, broker, rid
        self.topic = "mal/%s/data/%s" % (run, rid)
        self.will_topic = "mal/%s/will/%s" % (run, rid)
        self.cid = "mal-%s-%s" % (run, rid)
        self.connack = None

    @property
    def alias_max(self):
        return self.connack.prop(raw.P_TOPIC_ALIAS_MAXIMUM, 0) if self.connack else 0

    def good_connect(self, **kw):
        kw.setdefault("username", self.broker.username)
        kw.setdefault("password", self.broker.password)
        return raw.connect(self.cid, v=self.v, **kw)


class Row:
    def __init__(self, name, versions, spec, send, pre=True, eof=False, require=None,
                 offsets=None):
        self.name, self.versions, self.spec, self.send = name, versions, spec, send
        self.pre = pre          # a good CONNECT (with a will) precedes the bad bytes
        self.eof = eof          # shut down our write side after sending
        self.require = require  # (ptype, set of rc) that must arrive before the close
        self.offsets = offsets  # for "every offset" rows: function(ctx) -> list of byte strings


ROWS = []


def row(name, versions, spec, **kw):
    def deco(f):
        ROWS.append(Row(name, versions, spec, f, **kw))
        return f
    return deco


P = raw.props
S = raw.s


def pkt(t, flags, body):
    return raw.packet(t, flags, body)


# --- before / instead of CONNECT -------------------------------------------------------------
row("first_packet_publish", BOTH, "[MQTT-3.1.0-1] first packet MUST be CONNECT", pre=False)(
    lambda c: raw.publish(c.topic, b"x", qos=0, v=c.v))
row("first_packet_subscribe", BOTH, "[MQTT-3.1.0-1]", pre=False)(
    lambda c: raw.subscribe(1, [(c.topic, 0)], c.v))
row("first_packet_pingreq", (V311,), "[MQTT-3.1.0-1]", pre=False)(
    lambda c: raw.pingreq())
def _http_request(c):
    # 'G' = 0x47 reads as PUBACK with flags 7 and 'E' = 69 as its remaining length: send at least
    # that many more bytes so the broker holds a complete (non-CONNECT) packet, not a partial one.
    req = (b"GET / HTTP/1.1\r\nHost: localhost\r\nUser-Agent: seaway-e2e-malformed/1.0\r\n"
           b"Accept: */*\r\nConnection: keep-alive\r\n\r\n")
    assert len(req) - 2 >= req[1]
    return req


row("first_bytes_http_request", (V311,), "[MQTT-3.1.0-1] (first byte 'G' = type 4)", pre=False)(
    _http_request)
row("connect_protocol_name_invalid", BOTH, "[MQTT-3.1.2-1] MAY disconnect; MUST NOT go on per "
    "this spec", pre=False)(lambda c: c.good_connect(proto_name=b"MQTX"))
row("connect_protocol_name_lowercase", (V5,), "[MQTT-3.1.2-1]", pre=False)(
    lambda c: c.good_connect(proto_name=b"mqtt"))
row("connect_protocol_level_6", (V311,), "[MQTT-3.1.2-2] CONNACK 0x01 then close (5.0: 0x84)",
    pre=False, require=(raw.CONNACK, {0x01, 0x84}))(lambda c: c.good_connect(level=6))
row("connect_protocol_level_3_named_MQTT", (V311,), "[MQTT-3.1.2-2] CONNACK 0x01 then close",
    pre=False, require=(raw.CONNACK, {0x01}))(lambda c: c.good_connect(level=3))
row("connect_reserved_flag_bit0", BOTH, "[MQTT-3.1.2-3] reserved flag MUST be 0", pre=False)(
    lambda c: c.good_connect(flags=0x02 | 0x01 | 0xC0))
row("connect_will_qos_without_will_flag", BOTH, "[MQTT-3.1.2-13] will QoS MUST be 0 if will "
    "flag 0", pre=False)(lambda c: c.good_connect(flags=0x02 | 0x08 | 0xC0))
row("connect_will_retain_without_will_flag", BOTH, "[MQTT-3.1.2-15]", pre=False)(
    lambda c: c.good_connect(flags=0x02 | 0x20 | 0xC0))
row("connect_will_qos_3", BOTH, "[MQTT-3.1.2-14] will QoS MUST NOT be 3", pre=False)(
    lambda c: c.good_connect(will={"topic": c.will_topic, "payload": b"w", "qos": 3}))
row("connect_password_without_username", (V311,), "[MQTT-3.1.2-22] 3.1.1 password flag needs "
    "username flag", pre=False)(
    lambda c: raw.connect(c.cid, v=4, password=c.broker.password))
row("connect_fixed_header_flags", BOTH, "[MQTT-2.2.2-2] CONNECT flags MUST be 0000", pre=False)(
    lambda c: c.good_connect(header_flags=0x1))
row("connect_client_id_invalid_utf8", BOTH, "[MQTT-1.5.3-1] ill-formed UTF-8 MUST close",
    pre=False)(lambda c: raw.connect(b"mal\xc3\x28id", v=c.v, username=c.broker.username,
                                     password=c.broker.password))
row("connect_client_id_nul", BOTH, "[MQTT-1.5.3-2] U+0000 MUST NOT appear", pre=False)(
    lambda c: raw.connect(c.cid + "\x00x", v=c.v, username=c.broker.username,
                          password=c.broker.password))
row("connect_empty_client_id_persistent", (V311,), "[MQTT-3.1.3-8] CONNACK 0x02 then close",
    pre=False, require=(raw.CONNACK, {0x02}))(
    lambda c: raw.connect("", v=4, clean=False, username=c.broker.username,
                          password=c.broker.password))
row("connect_will_topic_wildcard", BOTH, "[MQTT-4.7.0-1] no wildcards in a topic name", pre=False)(
    lambda c: c.good_connect(will={"topic": c.will_topic + "/+", "payload": b"w"}))
row("connect_will_topic_invalid_utf8", BOTH, "[MQTT-1.5.3-1]", pre=False)(
    lambda c: c.good_connect(will={"topic": c.will_topic.encode() + b"\xff", "payload": b"w"}))
row("connect_username_invalid_utf8", BOTH, "[MQTT-1.5.3-1] user name is a UTF-8 string",
    pre=False)(lambda c: c.good_connect(username=b"us\xfe\xffer"))
row("connect_remaining_length_5_bytes", BOTH, "2.2.3 remaining length is at most 4 bytes",
    pre=False)(lambda c: bytes([0x10]) + b"\x80\x80\x80\x80\x01" + c.good_connect()[2:])
row("connect_length_beyond_data_then_eof", BOTH, "malformed: EOF inside a packet", pre=False,
    eof=True)(lambda c: bytes([0x10, 0x7F]) + c.good_connect()[2:20])
row("connect_v5_properties_length_overflow", (V5,), "2.2.2.1 property length beyond the packet",
    pre=False)(lambda c: _v5_connect_bad_props(c, b"\x40" + b"\x11\x00\x00\x00\x10"))
row("connect_v5_receive_maximum_0", (V5,), "3.1.2.11.3 Receive Maximum 0 is a protocol error",
    pre=False)(lambda c: c.good_connect(properties=[(raw.P_RECEIVE_MAXIMUM, 0)]))
row("connect_v5_maximum_packet_size_0", (V5,), "3.1.2.11.4 Maximum Packet Size 0 is a protocol "
    "error", pre=False)(lambda c: c.good_connect(properties=[(raw.P_MAXIMUM_PACKET_SIZE, 0)]))
row("connect_v5_duplicate_property", (V5,), "3.1.2.11.2 Session Expiry twice is a protocol error",
    pre=False)(lambda c: c.good_connect(properties=[(raw.P_SESSION_EXPIRY, 10),
                                                    (raw.P_SESSION_EXPIRY, 20)]))
row("connect_v5_unknown_property", (V5,), "2.2.2.2 unknown property id 0x7F", pre=False)(
    lambda c: c.good_connect(properties=[(0x7F, b"\x00")]))
row("connect_v5_auth_data_without_method", (V5,), "3.1.2.11.10 Authentication Data without "
    "Method is a protocol error", pre=False)(
    lambda c: c.good_connect(properties=[(raw.P_AUTH_DATA, b"\x01\x02")]))
row("connect_v5_request_problem_info_2", (V5,), "3.1.2.11.7 value other than 0/1 is a protocol "
    "error", pre=False)(lambda c: c.good_connect(properties=[(raw.P_REQUEST_PROBLEM_INFO, 2)]))


def _v5_connect_bad_props(c, prop_block):
    body = S(b"MQTT") + bytes([5, 0x02]) + raw.u16(30) + prop_block + S(c.cid)
    return pkt(raw.CONNECT, 0, body)


def _full_connect(c):
    will = {"topic": c.will_topic, "payload": b"will-payload", "qos": 1}
    if c.v == V5:
        will["properties"] = [(raw.P_WILL_DELAY, 0), (raw.P_CONTENT_TYPE, "text/plain")]
    props = [(raw.P_SESSION_EXPIRY, 0), (raw.P_RECEIVE_MAXIMUM, 10),
             (raw.P_USER_PROPERTY, ("k", "v"))] if c.v == V5 else None
    return raw.connect(c.cid, v=c.v, keepalive=30, username=c.broker.username,
                       password=c.broker.password, will=will, properties=props)


def _truncated_bodies(c):
    full = _full_connect(c)
    _, pos = raw.read_varint(full, 1)
    body = full[pos:]
    return [pkt(raw.CONNECT, 0, body[:k]) for k in range(len(body))]


def _truncated_streams(c):
    full = _full_connect(c)
    return [full[:k] for k in range(1, len(full))]


row("connect_truncated_body_every_offset", BOTH, "malformed: fields cut short inside a "
    "consistent remaining length", pre=False, offsets=_truncated_bodies)(None)
row("connect_truncated_stream_every_offset_then_eof", BOTH, "EOF inside CONNECT: no CONNACK, "
    "close", pre=False, eof=True, offsets=_truncated_streams)(None)

# --- after a good CONNECT ----------------------------------------------------------------------
row("second_connect", BOTH, "[MQTT-3.1.0-2] a second CONNECT is a protocol violation")(
    lambda c: c.good_connect())
row("subscribe_flags_0000", BOTH, "[MQTT-3.8.1-1] SUBSCRIBE flags MUST be 0010")(
    lambda c: raw.subscribe(1, [(c.topic, 0)], c.v, flags=0))
row("unsubscribe_flags_0000", BOTH, "[MQTT-3.10.1-1] UNSUBSCRIBE flags MUST be 0010")(
    lambda c: raw.unsubscribe(1, [c.topic], c.v, flags=0))
row("pubrel_flags_0000", BOTH, "[MQTT-3.6.1-1] PUBREL flags MUST be 0010")(
    lambda c: pkt(raw.PUBREL, 0, raw.u16(1)))
row("pingreq_flags_0001", BOTH, "[MQTT-2.2.2-2] reserved flags")(
    lambda c: pkt(raw.PINGREQ, 1, b""))
row("puback_flags_0001", BOTH, "[MQTT-2.2.2-2] reserved flags")(
    lambda c: pkt(raw.PUBACK, 1, raw.u16(1)))
row("disconnect_flags_0001", BOTH, "[MQTT-2.2.2-2]; a malformed DISCONNECT is not a normal "
    "disconnection: the will is published")(lambda c: pkt(raw.DISCONNECT, 1, b""))
row("publish_qos_3", BOTH, "[MQTT-3.3.1-4] QoS 3 MUST close")(
    lambda c: raw.publish(c.topic, b"q3", v=c.v, flags=0x06, pid=5))
row("publish_qos0_dup", BOTH, "[MQTT-3.3.1-2] DUP MUST be 0 for QoS 0")(
    lambda c: raw.publish(c.topic, b"dup0", v=c.v, dup=True))
row("publish_topic_plus", BOTH, "[MQTT-3.3.2-2] no wildcards in a PUBLISH topic")(
    lambda c: raw.publish(c.topic + "/+/x", b"plus", v=c.v))
row("publish_topic_hash", BOTH, "[MQTT-3.3.2-2]")(
    lambda c: raw.publish(c.topic + "/#", b"hash", qos=1, pid=3, v=c.v))
row("publish_topic_invalid_utf8", BOTH, "[MQTT-1.5.3-1]")(
    lambda c: raw.publish(c.topic.encode() + b"/\xff\xfe", b"utf", v=c.v))
row("publish_topic_overlong_utf8", BOTH, "[MQTT-1.5.3-1] overlong encoding is ill-formed")(
    lambda c: raw.publish(c.topic.encode() + b"/\xc0\xaf", b"overlong", v=c.v))
row("publish_topic_utf16_surrogate", BOTH, "[MQTT-1.5.3-1] U+D800..U+DFFF MUST NOT appear")(
    lambda c: raw.publish(c.topic.encode() + b"/\xed\xa0\x80", b"surrogate", v=c.v))
row("publish_topic_nul", BOTH, "[MQTT-1.5.3-2] U+0000")(
    lambda c: raw.publish(c.topic + "/a\x00b", b"nul", v=c.v))
row("publish_empty_topic", (V311,), "[MQTT-4.7.3-1] topic names are at least one character")(
    lambda c: raw.publish("", b"empty", qos=1, pid=2, v=4))
row("publish_empty_topic_without_alias", (V5,), "3.3.2.1 zero-length topic without alias is a "
    "protocol error")(lambda c: raw.publish("", b"empty", qos=1, pid=2, v=5))
row("publish_qos1_packet_id_0", BOTH, "[MQTT-2.3.1-1] non-zero packet identifier")(
    lambda c: raw.publish(c.topic, b"pid0", qos=1, pid=0, v=c.v))
row("publish_topic_length_beyond_packet", BOTH, "malformed: string longer than the packet")(
    lambda c: pkt(raw.PUBLISH, 0, raw.u16(0xFFFF) + c.topic.encode()))
row("publish_remaining_length_5_bytes", BOTH, "2.2.3 remaining length is at most 4 bytes")(
    lambda c: bytes([0x30]) + b"\xff\xff\xff\xff\x01" + raw.publish(c.topic, b"x", v=c.v)[2:])
row("publish_length_beyond_data_then_eof", BOTH, "EOF inside a PUBLISH: closed, nothing "
    "delivered, will published", eof=True)(
    lambda c: bytes([0x32]) + raw.varint(300) + raw.publish(c.topic, b"partial", qos=1,
                                                            pid=9, v=c.v)[2:])
row("subscribe_filter_a_hash", BOTH, "[MQTT-4.7.1-2] # must be a whole last level")(
    lambda c: raw.subscribe(1, [(c.topic + "/a#", 0)], c.v))
row("subscribe_filter_hash_not_last", BOTH, "[MQTT-4.7.1-2] # must be last")(
    lambda c: raw.subscribe(1, [(c.topic + "/#/b", 0)], c.v))
row("subscribe_filter_a_plus", BOTH, "[MQTT-4.7.1-3] + must occupy a whole level")(
    lambda c: raw.subscribe(1, [(c.topic + "/a+", 0)], c.v))
row("subscribe_filter_plus_a", BOTH, "[MQTT-4.7.1-3]")(
    lambda c: raw.subscribe(1, [(c.topic + "/+a/b", 0)], c.v))
row("subscribe_no_filters", BOTH, "[MQTT-3.8.3-3] at least one filter")(
    lambda c: raw.subscribe(1, [], c.v))
row("unsubscribe_no_filters", BOTH, "[MQTT-3.10.3-2] at least one filter")(
    lambda c: raw.unsubscribe(1, [], c.v))
row("subscribe_qos_3", BOTH, "[MQTT-3.8.3-4] (3.1.1) / 3.8.3.1 (5.0) QoS 3 is malformed")(
    lambda c: raw.subscribe(1, [(c.topic, 3)], c.v))
row("subscribe_reserved_option_bits", BOTH, "[MQTT-3.8.3-4] 3.1.1 upper 6 bits / [MQTT-3-8.3-5] "
    "5.0 bits 6-7 MUST be 0")(
    lambda c: raw.subscribe(1, [(c.topic, 0x04 if c.v == V311 else 0x40)], c.v))
row("subscribe_packet_id_0", BOTH, "[MQTT-2.3.1-1] SUBSCRIBE needs a non-zero packet id")(
    lambda c: raw.subscribe(0, [(c.topic, 0)], c.v))
row("unsubscribe_packet_id_0", BOTH, "[MQTT-2.3.1-1]")(
    lambda c: raw.unsubscribe(0, [c.topic], c.v))
row("subscribe_filter_invalid_utf8", BOTH, "[MQTT-1.5.3-1]")(
    lambda c: raw.subscribe(1, [(c.topic.encode() + b"/\xc3", 0)], c.v))
row("subscribe_empty_filter", BOTH, "[MQTT-4.7.3-1] filters are at least one character")(
    lambda c: raw.subscribe(1, [("", 0)], c.v))
row("packet_type_0", BOTH, "2.1.2 type 0 is reserved")(lambda c: pkt(0, 0, b""))
row("packet_type_15", (V311,), "2.2.1 (3.1.1) type 15 is reserved")(lambda c: pkt(15, 0, b""))
row("auth_without_auth_method", (V5,), "4.12 AUTH without an Authentication Method in CONNECT is "
    "a protocol error")(lambda c: pkt(raw.AUTH, 0, b"\x18" + P([(raw.P_AUTH_METHOD, "x")])))
row("publish_v5_topic_alias_0", (V5,), "[MQTT-3.3.2-8] topic alias 0 is a protocol error")(
    lambda c: raw.publish(c.topic, b"a0", v=5, properties=[(raw.P_TOPIC_ALIAS, 0)]))
row("publish_v5_topic_alias_above_maximum", (V5,), "[MQTT-3.3.2-9] alias above the CONNACK "
    "maximum")(lambda c: raw.publish(c.topic, b"amax", v=5,
                                     properties=[(raw.P_TOPIC_ALIAS, c.alias_max + 1)]))
row("publish_v5_unknown_alias", (V5,), "3.3.2.3.4 empty topic with an alias never set")(
    lambda c: raw.publish("", b"unknown", v=5, properties=[(raw.P_TOPIC_ALIAS, 1)]))
row("publish_v5_unknown_property", (V5,), "2.2.2.2 unknown property id")(
    lambda c: raw.publish(c.topic, b"unk", v=5, properties=[(0x7F, b"\x01")]))
row("publish_v5_duplicate_property", (V5,), "3.3.2.3 Message Expiry twice is a protocol error")(
    lambda c: raw.publish(c.topic, b"dupprop", v=5, properties=[(raw.P_MESSAGE_EXPIRY, 5),
                                                                 (raw.P_MESSAGE_EXPIRY, 6)]))
row("publish_v5_property_not_for_publish", (V5,), "2.2.2.2 Session Expiry is not a PUBLISH "
    "property")(lambda c: raw.publish(c.topic, b"wrongprop", v=5,
                                      properties=[(raw.P_SESSION_EXPIRY, 5)]))
row("publish_v5_subscription_identifier", (V5,), "[MQTT-3.3.4-6] client PUBLISH MUST NOT carry a "
    "Subscription Identifier")(lambda c: raw.publish(c.topic, b"subid", v=5,
                                                     properties=[(raw.P_SUBSCRIPTION_ID, 3)]))
row("publish_v5_user_property_invalid_utf8", (V5,), "[MQTT-1.5.3-1] in a UTF-8 string pair")(
    lambda c: raw.publish(c.topic, b"up", v=5,
                          properties=[(raw.P_USER_PROPERTY, (b"k\xff", "v"))]))
row("publish_v5_response_topic_wildcard", (V5,), "[MQTT-3.3.2-14] Response Topic MUST NOT "
    "contain wildcards")(lambda c: raw.publish(c.topic, b"rt", v=5,
                                               properties=[(raw.P_RESPONSE_TOPIC, "r/#")]))
row("subscribe_v5_retain_handling_3", (V5,), "3.8.3.1 retain handling 3 is a protocol error")(
    lambda c: raw.subscribe(1, [(c.topic, 0x30)], 5))
row("subscribe_v5_shared_no_local", (V5,), "[MQTT-3.8.3-4] no-local on a shared subscription")(
    lambda c: raw.subscribe(1, [("$share/g/" + c.topic, 0x04)], 5))
row("subscribe_v5_shared_bad_share_name", (V5,), "[MQTT-4.8.2-2] share name without + # /")(
    lambda c: raw.subscribe(1, [("$share/g+/" + c.topic, 0)], 5))
row("subscribe_v5_shared_without_filter", (V5,), "[MQTT-4.8.2-2] ShareName MUST be followed "
    "by / and a filter")(
    lambda c: raw.subscribe(1, [("$share/grp", 0)], 5))
row("subscribe_v5_subscription_identifier_0", (V5,), "3.8.2.1.2 Subscription Identifier 0 is a "
    "protocol error")(lambda c: raw.subscribe(1, [(c.topic, 0)], 5,
                                             properties=[(raw.P_SUBSCRIPTION_ID, 0)]))


# =============================================================================================
# Running one row
# =============================================================================================
def label_of(r, v):
    return "%s[%s]" % (r.name, VERSION_NAMES[v])


def judge(v, closed, pkts, require, allow_connack_ok=False):
    """None if the outcome meets the spec, else the reason."""
    if not closed:
        return "connection still open after %.0f s (got %s)" % (CLOSE_TIMEOUT, pkts or "nothing")
    for p in pkts:
        if p.type == raw.CONNACK:
            if p.rc == 0 and not allow_connack_ok:
                return "CONNACK success (accepted) before closing: %r" % p
        elif p.type == raw.DISCONNECT and v == V5:
            if p.rc is None or p.rc < 0x80:
                return "DISCONNECT with non-error reason %r" % p
        else:
            return "sent %r before closing" % p
    if require:
        ptype, codes = require
        if not any(p.type == ptype and p.rc in codes for p in pkts):
            return "expected %s with %s before closing, got %s" % (
                raw.TYPE_NAMES[ptype], "/".join("0x%02x" % x for x in sorted(codes)), pkts)
    return None


def send_and_judge(broker, v, data, eof, require, prefix=None):
    r = raw.RawClient(broker.host, broker.mqtt_port, v, timeout=5)
    try:
        if prefix:
            r.send(prefix)
            ca = r.expect(raw.CONNACK, 5)
            if ca.rc != 0:
                return "good CONNECT refused: %r" % ca, ca
        else:
            ca = None
        if not r.try_send(data):
            return None, ca  # peer already closed: that is a close
        if eof:
            r.shutdown_write()
        try:
            closed, pkts = r.wait_closed(CLOSE_TIMEOUT)
        except Exception as e:  # unparseable reply
            return "unparseable reply: %s" % e, ca
        return judge(v, closed, pkts, require), ca
    finally:
        r.close()


def run_row(broker, run, rid, r, v):
    c = RowCtx(run, rid, v, broker)
    if r.offsets is not None:
        datas = r.offsets(c)
        fails = []

        def one(i_data):
            i, data = i_data
            err, _ = send_and_judge(broker, v, data, r.eof, r.require)
            return i, err
        with concurrent.futures.ThreadPoolExecutor(8) as ex:
            for i, err in ex.map(one, enumerate(datas)):
                if err:
                    fails.append((i, err))
        if fails:
            return "%d of %d offsets failed, e.g. offset %d: %s" % (
                len(fails), len(datas), fails[0][0], fails[0][1])
        return None
    if r.pre:
        prefix = c.good_connect(will={"topic": c.will_topic, "payload": rid.encode(), "qos": 1})
        # The alias maximum is needed to build one row: connect first, then build.
        rc = raw.RawClient(broker.host, broker.mqtt_port, v, timeout=5)
        try:
            rc.send(prefix)
            ca = rc.expect(raw.CONNACK, 5)
            if ca.rc != 0:
                return "good CONNECT refused: %r" % ca
            c.connack = ca
            data = r.send(c)
            if not rc.try_send(data):
                return None
            if r.eof:
                rc.shutdown_write()
            try:
                closed, pkts = rc.wait_closed(CLOSE_TIMEOUT)
            except Exception as e:
                return "unparseable reply: %s" % e
            return judge(v, closed, pkts, r.require)
        finally:
            rc.close()
    err, _ = send_and_judge(broker, v, r.send(c), r.eof, r.require)
    return err


# =============================================================================================
# Sentinel and background load
# =============================================================================================
class Sentinel(threading.Thread):
    """Raw 5.0 subscriber on mal/<run>/#: records everything (wills and leaked publishes)."""

    def __init__(self, broker, run):
        super().__init__(daemon=True)
        self.r = raw.RawClient(broker.host, broker.mqtt_port, V5)
        ca = self.r.connect("mal-%s-sentinel" % run, username=broker.username,
                            password=broker.password, keepalive=0)
        check(ca.rc == 0, "sentinel refused: %r" % ca)
        self.r.send(raw.subscribe(1, [("mal/%s/#" % run, 1)], V5))
        self.r.expect(raw.SUBACK)
        self.got = []
        self.error = None
        self.stop_flag = False

    def run(self):
        try:
            while not self.stop_flag:
                p = self.r.recv(0.2)
                if p is None:
                    continue
                if p.type == raw.PUBLISH:
                    self.got.append((p.topic, p.payload))
                    if p.qos == 1:
                        self.r.send(raw.ack(raw.PUBACK, p.pid, V5))
                    elif p.qos == 2:
                        self.r.send(raw.ack(raw.PUBREC, p.pid, V5))
                elif p.type == raw.PUBREL:
                    self.r.send(raw.ack(raw.PUBCOMP, p.pid, V5))
        except Exception as e:
            self.error = "sentinel: %s %s" % (type(e).__name__, e)

    def stop(self):
        self.stop_flag = True
        self.join(2)
        self.r.close()


class Load:
    def __init__(self, broker, run, n):
        self.broker, self.run = broker, run
        self.npub = n // 2
        self.subs, self.pubs = [], []
        self.sent = [[] for _ in range(self.npub)]  # (seq, MQTTMessageInfo)
        self.stop_flag = threading.Event()
        self.errors = []
        for i in range(self.npub):
            v = V311 if i % 2 == 0 else V5
            s = PahoClient(broker, v, "load-%s-sub-%d" % (run, i), keepalive=10)
            s.subscribe(self.topic(i), 1)
            self.subs.append(s)
        self.all = PahoClient(broker, V5, "load-%s-all" % run, keepalive=10)
        self.all.subscribe("load/%s/#" % run, 1)
        for i in range(self.npub):
            v = V5 if i % 2 == 0 else V311
            self.pubs.append(PahoClient(broker, v, "load-%s-pub-%d" % (run, i), keepalive=10))
        self.thread = threading.Thread(target=self._drive, daemon=True)

    def topic(self, i):
        return "load/%s/%d" % (self.run, i)

    def start(self):
        self.t0 = time.monotonic()
        self.thread.start()

    def _drive(self, rate=4.0):
        seq = 0
        while not self.stop_flag.is_set():
            tick = time.monotonic()
            for i, p in enumerate(self.pubs):
                try:
                    info = p.c.publish(self.topic(i), b"%d:%d" % (i, seq), 1)
                    self.sent[i].append((seq, info))
                except Exception as e:
                    self.errors.append("publisher %d: %s" % (i, e))
            seq += 1
            self.stop_flag.wait(max(0.0, 1.0 / rate - (time.monotonic() - tick)))

    def stop_and_verify(self):
        self.stop_flag.set()
        self.thread.join(5)
        errors = list(self.errors)
        deadline = time.monotonic() + 15
        total = acked = 0
        for i, lst in enumerate(self.sent):
            for seq, info in lst:
                total += 1
                if not info.is_published():
                    info.wait_for_publish(max(0.01, deadline - time.monotonic()))
                if info.is_published():
                    acked += 1
        time.sleep(1.0)  # last deliveries
        clients = self.subs + self.pubs + [self.all]
        for c in clients:
            if c.disconnected.is_set():
                errors.append("%s saw a disconnect (rc %s)" % (c.client_id, c.disconnect_rc))
        all_got = {}
        for m in self.all.drain():
            all_got.setdefault(m.topic, set()).add(m.payload)
        for i, lst in enumerate(self.sent):
            got = {m.payload for m in self.subs[i].drain()}
            want = {b"%d:%d" % (i, seq) for seq, info in lst if info.is_published()}
            unacked = sum(1 for _, info in lst if not info.is_published())
            if unacked:
                errors.append("publisher %d: %d QoS 1 messages never acknowledged" % (i, unacked))
            missing = want - got
            if missing:
                errors.append("subscriber %d missed %d of %d acknowledged messages"
                              % (i, len(missing), len(want)))
            missing_all = want - all_got.get(self.topic(i), set())
            if missing_all:
                errors.append("wildcard subscriber missed %d of publisher %d's messages"
                              % (len(missing_all), i))
        for c in clients:
            try:
                c.close()
            except Exception:
                pass
        return total, acked, errors


# =============================================================================================
def main():
    ap = argparse.ArgumentParser(description="malformed MQTT input table under load")
    ap.add_argument("--broker", choices=["mosquitto", "seaway"], required=True)
    ap.add_argument("--seaway-bin")
    ap.add_argument("-k", dest="filter")
    ap.add_argument("--list", action="store_true")
    ap.add_argument("--clients", type=int, default=100)
    ap.add_argument("--workers", type=int, default=6)
    ap.add_argument("--min-load-seconds", type=float, default=10.0,
                    help="keep the good clients publishing at least this long")
    args = ap.parse_args()

    cases = []
    for idx, r in enumerate(ROWS):
        for v in r.versions:
            label = label_of(r, v)
            if args.filter and args.filter not in label:
                continue
            cases.append(("r%02d%d" % (idx, v), r, v, label))
    if args.list:
        for rid, r, v, label in cases:
            print("%-58s %s" % (label, r.spec))
        print("%d rows, %d cases" % (len(ROWS), len(cases)))
        return 0

    run = "%06x" % random.getrandbits(24)
    t_start = time.monotonic()
    broker = Broker(args.broker, args.seaway_bin)
    broker.start()
    results = {}
    try:
        sentinel = Sentinel(broker, run)
        sentinel.start()
        load = Load(broker, run, args.clients)
        load.start()
        print("load: %d publishers, %d subscribers + 1 wildcard subscriber; %d cases"
              % (load.npub, load.npub, len(cases)), flush=True)

        def do(case):
            rid, r, v, label = case
            try:
                return case, run_row(broker, run, rid, r, v)
            except AssertionError as e:
                return case, str(e)
            except Exception as e:
                return case, "%s: %s" % (type(e).__name__, e)
        with concurrent.futures.ThreadPoolExecutor(args.workers) as ex:
            for case, err in ex.map(do, cases):
                results[case[0]] = [err]
        time.sleep(1.5)  # wills in flight
        while time.monotonic() - load.t0 < args.min_load_seconds:
            time.sleep(0.2)
        load_time = time.monotonic() - load.t0
        total, acked, load_errors = load.stop_and_verify()
        sentinel.stop()

        # Wills and leaks per row.
        by_row = {}
        for topic, payload in sentinel.got:
            parts = topic.split("/")
            if len(parts) >= 4:
                by_row.setdefault((parts[2], parts[3]), []).append(payload)
        for rid, r, v, label in cases:
            errs = results[rid]
            leaked = by_row.get(("data", rid))
            if leaked:
                errs.append("illegal PUBLISH delivered to a subscriber: %r" % leaked[:3])
            if r.pre:
                wills = by_row.get(("will", rid), [])
                if not wills:
                    errs.append("will not published [MQTT-3.1.2-8]")
            elif by_row.get(("will", rid)):
                errs.append("will of a refused CONNECT was published")

        # The broker still works.
        final_errors = []
        if not broker.alive():
            final_errors.append("broker process died")
        else:
            for v in BOTH:
                try:
                    a = PahoClient(broker, v, "mal-%s-final-%d" % (run, v))
                    a.subscribe("mal/%s/final/%d" % (run, v), 1)
                    a.publish("mal/%s/final/%d" % (run, v), b"still-alive", 1)
                    check(a.get(3).payload == b"still-alive", "final round trip")
                    a.close()
                except Exception as e:
                    final_errors.append("new %s connection after the table: %s"
                                        % (VERSION_NAMES[v], e))
        if sentinel.error:
            final_errors.append(sentinel.error)
    finally:
        broker.close()

    passed, failed, xfailed, xpassed = [], [], [], []
    for rid, r, v, label in cases:
        errs = [e for e in results[rid] if e]
        known = args.broker == "mosquitto" and label in KNOWN_MOSQUITTO
        if not errs:
            passed.append(label)
            print("PASS  %-56s %s%s" % (label, r.spec,
                                        "  (listed as a known mosquitto deviation)" if known else ""))
            if known:
                xpassed.append(label)
        elif known:
            xfailed.append(label)
            print("XFAIL %-56s known mosquitto deviation: %s  [spec: %s]"
                  % (label, "; ".join(errs), r.spec))
        else:
            failed.append(label)
            print("FAIL  %-56s %s  [spec: %s]" % (label, "; ".join(errs), r.spec))
    print()
    print("background load: %d QoS 1 messages published over %.1f s, %d acknowledged"
          % (total, load_time, acked))
    for e in load_errors[:20]:
        print("FAIL  load: " + e)
    for e in final_errors:
        print("FAIL  " + e)
    if load_errors:
        failed.append("background-load")
    else:
        passed.append("background-load")
        print("PASS  background load: no disconnects, every acknowledged QoS 1 message delivered")
    if final_errors:
        failed.append("broker-still-accepts")
    else:
        passed.append("broker-still-accepts")
        print("PASS  broker accepts new 3.1.1 and 5.0 connections after the table")
    if xfailed:
        print("\nmosquitto deviations from the spec (XFAIL, expected per spec, mosquitto lenient):")
        for label in xfailed:
            print("  %s: %s" % (label, KNOWN_MOSQUITTO[label]))
    summary = "mqtt malformed (%s): %d passed, %d failed" % (args.broker, len(passed), len(failed))
    if xfailed:
        summary += " (+%d known mosquitto deviations)" % len(xfailed)
    print("\n%s in %.1f s" % (summary, time.monotonic() - t_start))
    print("%d passed, %d failed" % (len(passed), len(failed)))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
