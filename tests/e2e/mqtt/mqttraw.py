"""Hand-built MQTT 3.1.1 / 5.0 packets and a raw-socket client (tests/e2e/mqtt).

Used where a real client library cannot be made to misbehave or cannot show what we need:
closing the socket without DISCONNECT, staying silent past the keepalive, reading PUBACK reason
codes, withholding PUBACKs (receive maximum), topic-alias-only PUBLISH, malformed input.

Versions are the protocol level byte: 4 = MQTT 3.1.1, 5 = MQTT 5.0.
Properties are lists of (id, value) pairs so that duplicates and unknown ids can be sent.
"""

import socket
import struct
import time

CONNECT, CONNACK, PUBLISH, PUBACK, PUBREC, PUBREL, PUBCOMP = 1, 2, 3, 4, 5, 6, 7
SUBSCRIBE, SUBACK, UNSUBSCRIBE, UNSUBACK, PINGREQ, PINGRESP, DISCONNECT, AUTH = \
    8, 9, 10, 11, 12, 13, 14, 15
TYPE_NAMES = {0: "RESERVED0", 1: "CONNECT", 2: "CONNACK", 3: "PUBLISH", 4: "PUBACK",
              5: "PUBREC", 6: "PUBREL", 7: "PUBCOMP", 8: "SUBSCRIBE", 9: "SUBACK",
              10: "UNSUBSCRIBE", 11: "UNSUBACK", 12: "PINGREQ", 13: "PINGRESP",
              14: "DISCONNECT", 15: "AUTH"}

# Property identifiers (MQTT 5.0 section 2.2.2.2) and their wire types.
P_PAYLOAD_FORMAT = 0x01
P_MESSAGE_EXPIRY = 0x02
P_CONTENT_TYPE = 0x03
P_RESPONSE_TOPIC = 0x08
P_CORRELATION_DATA = 0x09
P_SUBSCRIPTION_ID = 0x0B
P_SESSION_EXPIRY = 0x11
P_ASSIGNED_CLIENT_ID = 0x12
P_SERVER_KEEPALIVE = 0x13
P_AUTH_METHOD = 0x15
P_AUTH_DATA = 0x16
P_REQUEST_PROBLEM_INFO = 0x17
P_WILL_DELAY = 0x18
P_REQUEST_RESPONSE_INFO = 0x19
P_RESPONSE_INFO = 0x1A
P_SERVER_REFERENCE = 0x1C
P_REASON_STRING = 0x1F
P_RECEIVE_MAXIMUM = 0x21
P_TOPIC_ALIAS_MAXIMUM = 0x22
P_TOPIC_ALIAS = 0x23
P_MAXIMUM_QOS = 0x24
P_RETAIN_AVAILABLE = 0x25
P_USER_PROPERTY = 0x26
P_MAXIMUM_PACKET_SIZE = 0x27
P_WILDCARD_SUB_AVAILABLE = 0x28
P_SUB_ID_AVAILABLE = 0x29
P_SHARED_SUB_AVAILABLE = 0x2A

PROP_TYPES = {
    0x01: "byte", 0x02: "u32", 0x03: "str", 0x08: "str", 0x09: "bin", 0x0B: "varint",
    0x11: "u32", 0x12: "str", 0x13: "u16", 0x15: "str", 0x16: "bin", 0x17: "byte",
    0x18: "u32", 0x19: "byte", 0x1A: "str", 0x1C: "str", 0x1F: "str", 0x21: "u16",
    0x22: "u16", 0x23: "u16", 0x24: "byte", 0x25: "byte", 0x26: "pair", 0x27: "u32",
    0x28: "byte", 0x29: "byte", 0x2A: "byte",
}


class Closed(Exception):
    """The peer closed the connection."""


class Malformed(Exception):
    """The peer sent bytes we cannot parse."""


# --- encoding --------------------------------------------------------------------------------
def varint(n):
    out = bytearray()
    while True:
        b = n % 128
        n //= 128
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def u16(n):
    return struct.pack("!H", n)


def u32(n):
    return struct.pack("!I", n)


def s(text):
    """Length-prefixed UTF-8 string; bytes are sent as given (to send invalid UTF-8)."""
    b = text if isinstance(text, (bytes, bytearray)) else text.encode("utf-8")
    return u16(len(b)) + bytes(b)


def prop_value(pid, value):
    t = PROP_TYPES.get(pid)
    if isinstance(value, (bytes, bytearray)) and t not in ("str", "bin", "pair"):
        return bytes(value)  # raw override
    if t == "byte":
        return bytes([value])
    if t == "u16":
        return u16(value)
    if t == "u32":
        return u32(value)
    if t == "varint":
        return varint(value)
    if t in ("str", "bin"):
        return s(value)
    if t == "pair":
        return s(value[0]) + s(value[1])
    if isinstance(value, (bytes, bytearray)):
        return bytes(value)
    raise ValueError("unknown property 0x%02x needs raw bytes" % pid)


def props(items):
    """Property block with its length prefix. items: [(id, value)], value bytes = raw."""
    body = b"".join(bytes([pid]) + prop_value(pid, v) for pid, v in (items or []))
    return varint(len(body)) + body


def packet(ptype, flags, body, remaining=None):
    rl = varint(len(body)) if remaining is None else remaining
    return bytes([(ptype << 4) | flags]) + rl + body


def connect(client_id, v=4, clean=True, keepalive=60, username=None, password=None,
            will=None, properties=None, proto_name=b"MQTT", level=None, flags=None,
            header_flags=0):
    """will: dict(topic, payload, qos, retain, properties)."""
    f = 0
    if clean:
        f |= 0x02
    payload = s(client_id)
    if will is not None:
        f |= 0x04 | (will.get("qos", 0) << 3) | (0x20 if will.get("retain") else 0)
        if v == 5:
            payload += props(will.get("properties"))
        payload += s(will["topic"]) + s(will.get("payload", b""))
    if username is not None:
        f |= 0x80
        payload += s(username)
    if password is not None:
        f |= 0x40
        payload += s(password)
    if flags is not None:
        f = flags
    vh = s(proto_name) + bytes([level if level is not None else v, f]) + u16(keepalive)
    if v == 5:
        vh += props(properties)
    return packet(CONNECT, header_flags, vh + payload)


def publish(topic, payload=b"", qos=0, retain=False, dup=False, pid=None, v=4,
            properties=None, flags=None):
    if isinstance(payload, str):
        payload = payload.encode()
    f = (qos << 1) | (1 if retain else 0) | (8 if dup else 0)
    if flags is not None:
        f = flags
    body = s(topic)
    if qos > 0 or (flags is not None and (flags >> 1) & 3):
        body += u16(pid if pid is not None else 1)
    if v == 5:
        body += props(properties)
    return packet(PUBLISH, f, body + payload)


def ack(ptype, pid, v=4, rc=None, properties=None):
    flags = 2 if ptype == PUBREL else 0
    body = u16(pid)
    if v == 5 and (rc is not None or properties):
        body += bytes([rc or 0])
        if properties:
            body += props(properties)
    return packet(ptype, flags, body)


def subscribe(pid, filters, v=4, properties=None, flags=2):
    """filters: [(filter, options_byte)]."""
    body = u16(pid)
    if v == 5:
        body += props(properties)
    for flt, opts in filters:
        body += s(flt) + bytes([opts])
    return packet(SUBSCRIBE, flags, body)


def sub_options(qos=0, no_local=False, retain_as_published=False, retain_handling=0):
    return qos | (4 if no_local else 0) | (8 if retain_as_published else 0) | (retain_handling << 4)


def unsubscribe(pid, filters, v=4, properties=None, flags=2):
    body = u16(pid)
    if v == 5:
        body += props(properties)
    for flt in filters:
        body += s(flt)
    return packet(UNSUBSCRIBE, flags, body)


def pingreq():
    return packet(PINGREQ, 0, b"")


def disconnect(v=4, rc=None, properties=None):
    body = b""
    if v == 5 and (rc is not None or properties):
        body = bytes([rc or 0])
        if properties:
            body += props(properties)
    return packet(DISCONNECT, 0, body)


# --- decoding --------------------------------------------------------------------------------
def read_varint(buf, pos):
    mult, value = 1, 0
    for i in range(4):
        if pos + i >= len(buf):
            return None, pos
        b = buf[pos + i]
        value += (b & 0x7F) * mult
        if not b & 0x80:
            return value, pos + i + 1
        mult *= 128
    raise Malformed("variable byte integer longer than 4 bytes")


def parse_props(buf, pos):
    n, pos = read_varint(buf, pos)
    end = pos + n
    out = []
    while pos < end:
        pid = buf[pos]
        pos += 1
        t = PROP_TYPES.get(pid)
        if t == "byte":
            val = buf[pos]; pos += 1
        elif t == "u16":
            val = struct.unpack_from("!H", buf, pos)[0]; pos += 2
        elif t == "u32":
            val = struct.unpack_from("!I", buf, pos)[0]; pos += 4
        elif t == "varint":
            val, pos = read_varint(buf, pos)
        elif t in ("str", "bin"):
            ln = struct.unpack_from("!H", buf, pos)[0]
            val = bytes(buf[pos + 2:pos + 2 + ln]); pos += 2 + ln
            if t == "str":
                val = val.decode("utf-8", "replace")
        elif t == "pair":
            ln = struct.unpack_from("!H", buf, pos)[0]
            k = bytes(buf[pos + 2:pos + 2 + ln]).decode("utf-8", "replace"); pos += 2 + ln
            ln = struct.unpack_from("!H", buf, pos)[0]
            val = (k, bytes(buf[pos + 2:pos + 2 + ln]).decode("utf-8", "replace")); pos += 2 + ln
        else:
            raise Malformed("unknown property 0x%02x" % pid)
        out.append((pid, val))
    return out, end


class Packet:
    def __init__(self, first, body, v):
        self.type = first >> 4
        self.flags = first & 0x0F
        self.body = bytes(body)
        self.v = v
        self.props = []
        self.rc = None
        self.pid = None
        self.codes = []
        self._parse()

    def prop(self, pid, default=None):
        for k, val in self.props:
            if k == pid:
                return val
        return default

    def props_all(self, pid):
        return [val for k, val in self.props if k == pid]

    def _parse(self):
        b, t, v = self.body, self.type, self.v
        if t == CONNACK:
            self.session_present = bool(b[0] & 1) if b else False
            self.rc = b[1] if len(b) > 1 else None
            if v == 5 and len(b) > 2:
                self.props, _ = parse_props(b, 2)
        elif t == PUBLISH:
            self.qos = (self.flags >> 1) & 3
            self.retain = bool(self.flags & 1)
            self.dup = bool(self.flags & 8)
            ln = struct.unpack_from("!H", b, 0)[0]
            self.topic = b[2:2 + ln].decode("utf-8", "replace")
            pos = 2 + ln
            if self.qos:
                self.pid = struct.unpack_from("!H", b, pos)[0]
                pos += 2
            if v == 5:
                self.props, pos = parse_props(b, pos)
            self.payload = b[pos:]
        elif t in (PUBACK, PUBREC, PUBREL, PUBCOMP):
            self.pid = struct.unpack_from("!H", b, 0)[0]
            self.rc = b[2] if len(b) > 2 else 0
            if v == 5 and len(b) > 3:
                self.props, _ = parse_props(b, 3)
        elif t in (SUBACK, UNSUBACK):
            self.pid = struct.unpack_from("!H", b, 0)[0]
            pos = 2
            if v == 5:
                self.props, pos = parse_props(b, 2)
            self.codes = list(b[pos:])
        elif t == DISCONNECT:
            self.rc = b[0] if b else 0
            if v == 5 and len(b) > 1:
                self.props, _ = parse_props(b, 1)
        elif t == AUTH:
            self.rc = b[0] if b else 0

    def __repr__(self):
        name = TYPE_NAMES.get(self.type, str(self.type))
        extra = []
        if self.rc is not None:
            extra.append("rc=0x%02x" % self.rc)
        if self.type == PUBLISH:
            extra.append("topic=%r qos=%d retain=%d payload=%r"
                         % (self.topic, self.qos, self.retain, self.payload[:40]))
        if self.codes:
            extra.append("codes=%s" % ["0x%02x" % c for c in self.codes])
        if self.props:
            extra.append("props=%r" % (self.props,))
        return "%s(%s)" % (name, " ".join(extra))


class RawClient:
    """A blocking MQTT client over a plain socket, with no automatic behaviour at all."""

    def __init__(self, host, port, v=4, timeout=5.0):
        self.v = v
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = bytearray()
        self.closed = False
        self.connack = None

    def send(self, data):
        self.sock.sendall(data)

    def try_send(self, data):
        try:
            self.sock.sendall(data)
            return True
        except OSError:
            return False

    def _take_packet(self):
        if len(self.buf) < 2:
            return None
        n, pos = read_varint(self.buf, 1)
        if n is None or len(self.buf) < pos + n:
            return None
        first = self.buf[0]
        body = self.buf[pos:pos + n]
        del self.buf[:pos + n]
        return Packet(first, body, self.v)

    def recv(self, timeout=5.0):
        """Next packet, None on timeout; raises Closed when the peer closed."""
        deadline = time.monotonic() + timeout
        while True:
            p = self._take_packet()
            if p is not None:
                return p
            if self.closed:
                raise Closed()
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            self.sock.settimeout(left)
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                return None
            except OSError:
                data = b""
            if not data:
                self.closed = True
                if self.buf:
                    p = self._take_packet()
                    if p is not None:
                        return p
                raise Closed()
            self.buf += data

    def expect(self, ptype, timeout=5.0, skip=()):
        """Next packet of type ptype, skipping types in `skip`; AssertionError otherwise."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            try:
                p = self.recv(max(left, 0))
            except Closed:
                raise AssertionError("connection closed while waiting for %s" % TYPE_NAMES[ptype])
            if p is None:
                raise AssertionError("no %s within %.1f s" % (TYPE_NAMES[ptype], timeout))
            if p.type == ptype:
                return p
            if p.type in skip:
                continue
            raise AssertionError("expected %s, got %r" % (TYPE_NAMES[ptype], p))

    def wait_closed(self, timeout=3.0):
        """(closed, packets received meanwhile)."""
        got = []
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return False, got
            try:
                p = self.recv(left)
            except Closed:
                return True, got
            except Malformed:
                return True, got
            if p is None:
                return False, got
            got.append(p)

    def connect(self, client_id, **kw):
        kw.setdefault("v", self.v)
        self.send(connect(client_id, **kw))
        self.connack = self.expect(CONNACK)
        return self.connack

    def shutdown_write(self):
        try:
            self.sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass

    def close(self):
        """Abrupt close, no DISCONNECT."""
        try:
            self.sock.close()
        except OSError:
            pass
        self.closed = True

    def abort(self):
        """Close with RST (SO_LINGER 0): an abnormal network failure as the broker sees it."""
        try:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass
        self.close()
