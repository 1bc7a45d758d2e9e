#!/usr/bin/env python3
"""Writes the seed corpus of mqtt_packet_fuzzer: hand-encoded packets of MQTT 3.1.1 and 5.0.

Each seed is one version byte (4: 3.1.1, 5: 5.0) followed by a stream of packets.
Run from this directory: ./make_seeds.py (rewrites corpus/).
"""
import os
import struct


def varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def s(text):
    data = text.encode() if isinstance(text, str) else text
    return struct.pack(">H", len(data)) + data


def u16(n):
    return struct.pack(">H", n)


def u32(n):
    return struct.pack(">I", n)


def props(*items):
    body = b"".join(items)
    return varint(len(body)) + body


def packet(byte0, body):
    return bytes([byte0]) + varint(len(body)) + body


V311, V5 = b"\x04", b"\x05"

SEEDS = {
    # 3.1.1 CONNECT, clean session, keep alive 60, user name and password, will QoS 1 retained.
    "v311_connect_will.bin": V311 + packet(
        0x10, s("MQTT") + b"\x04" + bytes([0x02 | 0x04 | 0x08 | 0x20 | 0x40 | 0x80]) + u16(60)
        + s("dev-1") + s("status/dev-1") + s("offline") + s("user") + s(b"p\x00ss")),
    "v311_connect_min.bin": V311 + packet(0x10, s("MQTT") + b"\x04\x02" + u16(0) + s("")),
    # 3.1.1 session: PUBLISH QoS 0/1/2, acks, SUBSCRIBE, SUBACK, UNSUBSCRIBE, UNSUBACK, pings.
    "v311_session.bin": V311
    + packet(0x30, s("a/b") + b"hello")
    + packet(0x32, s("a/b") + u16(1) + b"q1")
    + packet(0x3D, s("a/c") + u16(2) + b"q2 dup retain")
    + packet(0x40, u16(1)) + packet(0x50, u16(2)) + packet(0x62, u16(2)) + packet(0x70, u16(2))
    + packet(0x82, u16(3) + s("a/+") + b"\x01" + s("#") + b"\x00" + s("$share/g/a/#") + b"\x02")
    + packet(0x90, u16(3) + b"\x01\x00\x80")
    + packet(0xA2, u16(4) + s("a/+")) + packet(0xB0, u16(4))
    + packet(0xC0, b"") + packet(0xD0, b"") + packet(0xE0, b""),
    # Found by the fuzzer: a 3.1.1 SUBACK return code other than 0, 1, 2 and 0x80 decoded, but
    # Encode wrote it as 0x80. Now malformed.
    "v311_suback_reserved_code.bin": V311 + packet(0x90, u16(5) + b"\x60\x01"),
    "v311_connack.bin": V311 + packet(0x20, b"\x01\x00") + packet(0x20, b"\x00\x05"),
    "v311_sys_topics.bin": V311
    + packet(0x82, u16(9) + s("$SYS/#") + b"\x00" + s("+/x") + b"\x00" + s("+/+") + b"\x01")
    + packet(0x30, s("$SYS/x")) + packet(0x30, s("/x")) + packet(0x30, s("a/x")),
    # 5.0 CONNECT with properties and will properties.
    "v5_connect_props.bin": V5 + packet(
        0x10, s("MQTT") + b"\x05" + bytes([0x02 | 0x04 | 0x10 | 0x80]) + u16(30)
        + props(b"\x11" + u32(3600), b"\x21" + u16(20), b"\x22" + u16(10),
                b"\x27" + u32(65536), b"\x17\x01", b"\x19\x00", b"\x15" + s("SCRAM"),
                b"\x16" + s(b"\x01\x02"), b"\x26" + s("k") + s("v"))
        + s("client") + props(b"\x18" + u32(5), b"\x01\x01", b"\x02" + u32(100),
                              b"\x03" + s("text/plain"), b"\x08" + s("resp"),
                              b"\x09" + s(b"\x00cd"))
        + s("will/t") + s("bye") + s("user")),
    "v5_connect_min.bin": V5 + packet(0x10, s("MQTT") + b"\x05\x02" + u16(0) + b"\x00" + s("")),
    # 5.0 CONNACK with every CONNACK property.
    "v5_connack_props.bin": V5 + packet(
        0x20, b"\x00\x00" + props(
            b"\x11" + u32(0), b"\x12" + s("auto-1"), b"\x13" + u16(30), b"\x15" + s("m"),
            b"\x16" + s(b"d"), b"\x1A" + s("info"), b"\x1C" + s("other:1883"),
            b"\x1F" + s("ok"), b"\x21" + u16(100), b"\x22" + u16(8), b"\x24\x01", b"\x25\x01",
            b"\x26" + s("a") + s("b"), b"\x27" + u32(1 << 20), b"\x28\x01", b"\x29\x00",
            b"\x2A\x01")),
    # 5.0 PUBLISH with properties (alias, expiry, response topic, user properties, sub ids).
    "v5_publish_props.bin": V5 + packet(
        0x33, s("t/1") + u16(7) + props(
            b"\x01\x01", b"\x02" + u32(60), b"\x03" + s("json"), b"\x08" + s("r/1"),
            b"\x09" + s(b"\xff"), b"\x0B" + varint(1), b"\x0B" + varint(268435455),
            b"\x23" + u16(1), b"\x26" + s("x") + s("y"), b"\x26" + s("x") + s("z"))
        + b"{\"v\":1}") + packet(0x30, s("") + props(b"\x23" + u16(1)) + b"aliased"),
    # 5.0 acks with and without reason codes and properties.
    "v5_acks.bin": V5 + packet(0x40, u16(1)) + packet(0x40, u16(1) + b"\x10")
    + packet(0x50, u16(2) + b"\x80" + props(b"\x1F" + s("no"), b"\x26" + s("k") + s("v")))
    + packet(0x62, u16(2) + b"\x92\x00") + packet(0x70, u16(2) + b"\x00\x00"),
    # 5.0 SUBSCRIBE with options bits and a subscription identifier; SUBACK; UNSUB*.
    "v5_subscribe.bin": V5
    + packet(0x82, u16(5) + props(b"\x0B" + varint(42), b"\x26" + s("k") + s("v"))
             + s("a/#") + bytes([0x01 | 0x04 | 0x08 | 0x20]) + s("$share/grp/+/b") + b"\x12")
    + packet(0x90, u16(5) + props(b"\x1F" + s("partly")) + b"\x01\x8F")
    + packet(0xA2, u16(6) + props() + s("a/#") + s("$share/grp/+/b"))
    + packet(0xB0, u16(6) + props() + b"\x00\x11"),
    "v5_disconnect_auth.bin": V5 + packet(0xE0, b"") + packet(0xE0, b"\x04")
    + packet(0xE0, b"\x8E" + props(b"\x11" + u32(0), b"\x1C" + s("s2"), b"\x1F" + s("bye")))
    + packet(0xF0, b"") + packet(0xF0, b"\x18" + props(b"\x15" + s("SCRAM"),
                                                        b"\x16" + s(b"\x00\x01")))
    + packet(0xC0, b"") + packet(0xD0, b""),
    # Framing: a packet of remaining length 128 (two-byte length) and an incomplete tail.
    "v5_two_byte_length.bin": V5 + packet(0x30, s("big") + b"\x00" + b"x" * 123)
    + b"\x30\x80",
    # A CONNECT of 5.0 on a stream that started as 3.1.1, then 5.0 packets.
    "v311_switch_to_v5.bin": V311
    + packet(0x10, s("MQTT") + b"\x05\x00" + u16(10) + props(b"\x21" + u16(1)) + s("c"))
    + packet(0x32, s("x") + u16(1) + props(b"\x26" + s("a") + s("b")) + b"p"),
    # Errors: unknown property, property in the wrong packet, receive maximum 0.
    "v5_errors.bin": V5 + packet(0x30, s("t") + props(b"\x7F\x00"))
    + packet(0x40, u16(1) + b"\x00" + props(b"\x23" + u16(1)))
    + packet(0x10, s("MQTT") + b"\x05\x02" + u16(0) + props(b"\x21" + u16(0)) + s("")),
}


def main():
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")
    os.makedirs(out, exist_ok=True)
    for name, data in SEEDS.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
