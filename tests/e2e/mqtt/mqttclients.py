"""Synchronous wrappers over real MQTT clients for the conformance suite (tests/e2e/mqtt).

PahoClient wraps paho-mqtt 1.6.1 (Debian's python3-paho-mqtt; run with /usr/bin/python3) with
blocking connect/subscribe/publish and a message queue. cli_pub / cli_sub run the mosquitto_pub
and mosquitto_sub command-line clients.
"""

import queue
import subprocess
import threading
import time

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

V311, V5 = 4, 5
VERSION_NAMES = {V311: "3.1.1", V5: "5.0"}


def check(cond, message):
    if not cond:
        raise AssertionError(message)


def pub_props(**kw):
    """Properties for PUBLISH (or will: packet=PacketTypes.WILLMESSAGE)."""
    packet = kw.pop("packet", PacketTypes.PUBLISH)
    p = Properties(packet)
    for k, val in kw.items():
        setattr(p, k, val)
    return p


class Msg:
    def __init__(self, m, v):
        self.topic = m.topic
        self.payload = bytes(m.payload)
        self.qos = m.qos
        self.retain = bool(m.retain)
        self.dup = bool(m.dup)
        self.time = time.monotonic()
        p = m.properties if v == V5 else None
        self.props = p

    def prop(self, name, default=None):
        if self.props is None:
            return default
        return getattr(self.props, name, default)

    def __repr__(self):
        return "Msg(%s %r qos=%d retain=%d)" % (self.topic, self.payload[:40], self.qos, self.retain)


class PahoClient:
    def __init__(self, broker, v, client_id, clean=True, session_expiry=None, will=None,
                 keepalive=30, connect_props=None, username=None, password=None,
                 connect=True, expect_rc=0, websocket=False):
        self.broker, self.v, self.client_id = broker, v, client_id
        self.clean = clean
        self.session_expiry = session_expiry
        self.keepalive = keepalive
        self.connect_props = connect_props or {}
        proto = mqtt.MQTTv5 if v == V5 else mqtt.MQTTv311
        # MQTT over WebSocket: Seaway serves it on the HTTP listener at /mqtt.
        self.port = broker.http_port if websocket else broker.mqtt_port
        transport = "websockets" if websocket else "tcp"
        if v == V5:
            self.c = mqtt.Client(client_id, protocol=proto, reconnect_on_failure=False,
                                 transport=transport)
        else:
            self.c = mqtt.Client(client_id, clean_session=clean, protocol=proto,
                                 reconnect_on_failure=False, transport=transport)
        if websocket:
            self.c.ws_set_options(path="/mqtt")
        self.c.username_pw_set(username if username is not None else broker.username,
                               password if password is not None else broker.password)
        if will:
            self.c.will_set(will["topic"], will.get("payload"), will.get("qos", 0),
                            will.get("retain", False), properties=will.get("properties"))
        self.msgs = queue.Queue()
        self.lock = threading.Condition()
        self.subacks, self.unsubacks = {}, {}
        self.connack = None
        self.connected = threading.Event()
        self.disconnected = threading.Event()
        self.disconnect_rc = None
        self.disconnect_props = None
        self.c.on_connect = self._on_connect
        self.c.on_disconnect = self._on_disconnect
        self.c.on_message = lambda c, u, m: self.msgs.put(Msg(m, self.v))
        self.c.on_subscribe = self._on_subscribe
        self.c.on_unsubscribe = self._on_unsubscribe
        self.c.max_inflight_messages_set(20)
        self.started = False
        if connect:
            self.connect(expect_rc=expect_rc)

    # -- callbacks --------------------------------------------------------------------------
    def _on_connect(self, c, u, flags, rc, props=None):
        code = rc.value if hasattr(rc, "value") else rc
        self.connack = {"session_present": bool(flags.get("session present")), "rc": code,
                        "props": props}
        self.connected.set()

    def _on_disconnect(self, c, u, rc, props=None):
        self.disconnect_rc = rc.value if hasattr(rc, "value") else rc
        self.disconnect_props = props
        self.disconnected.set()

    def _on_subscribe(self, c, u, mid, granted, props=None):
        codes = [g.value if hasattr(g, "value") else g for g in granted]
        with self.lock:
            self.subacks[mid] = codes
            self.lock.notify_all()

    def _on_unsubscribe(self, c, u, mid, props=None, codes=None):
        if codes is not None and not isinstance(codes, list):
            codes = [codes]
        with self.lock:
            self.unsubacks[mid] = [x.value for x in codes] if codes is not None else []
            self.lock.notify_all()

    # -- operations -------------------------------------------------------------------------
    def connect(self, clean=None, session_expiry=None, expect_rc=0, timeout=5.0):
        if clean is not None:
            self.clean = clean
        if session_expiry is not None:
            self.session_expiry = session_expiry
        self.connected.clear()
        self.disconnected.clear()
        if self.v == V5:
            props = Properties(PacketTypes.CONNECT)
            if self.session_expiry is not None:
                props.SessionExpiryInterval = self.session_expiry
            for k, val in self.connect_props.items():
                setattr(props, k, val)
            self.c.connect(self.broker.host, self.port, self.keepalive,
                           clean_start=self.clean, properties=props)
        else:
            self.c._clean_session = self.clean
            self.c.connect(self.broker.host, self.port, self.keepalive)
        if not self.started:
            self.c.loop_start()
            self.started = True
        check(self.connected.wait(timeout), "%s: no CONNACK within %.0f s" % (self.client_id, timeout))
        if expect_rc is not None:
            check(self.connack["rc"] == expect_rc, "%s: CONNACK rc %s, expected %s"
                  % (self.client_id, self.connack["rc"], expect_rc))
        return self.connack

    @property
    def session_present(self):
        return self.connack["session_present"]

    def subscribe(self, filters, qos=1, timeout=5.0, properties=None, **opts):
        """filters: a string, or list of (filter, qos) / (filter, SubscribeOptions).
        opts (5.0): no_local, retain_as_published, retain_handling. Returns SUBACK codes."""
        if isinstance(filters, str):
            if self.v == V5:
                o = mqtt.SubscribeOptions(qos=qos, noLocal=opts.get("no_local", False),
                                          retainAsPublished=opts.get("retain_as_published", False),
                                          retainHandling=opts.get("retain_handling", 0))
                filters = [(filters, o)]
            else:
                filters = [(filters, qos)]
        elif self.v == V5:
            filters = [(f, q if isinstance(q, mqtt.SubscribeOptions) else mqtt.SubscribeOptions(qos=q))
                       for f, q in filters]
        if self.v == V5:
            rc, mid = self.c.subscribe(filters, properties=properties)
        else:
            rc, mid = self.c.subscribe(filters)
        check(rc == mqtt.MQTT_ERR_SUCCESS, "subscribe failed locally: %s" % rc)
        with self.lock:
            ok = self.lock.wait_for(lambda: mid in self.subacks, timeout)
            check(ok, "%s: no SUBACK within %.0f s" % (self.client_id, timeout))
            return self.subacks.pop(mid)

    def unsubscribe(self, filters, timeout=5.0):
        rc, mid = self.c.unsubscribe(filters)
        check(rc == mqtt.MQTT_ERR_SUCCESS, "unsubscribe failed locally: %s" % rc)
        with self.lock:
            ok = self.lock.wait_for(lambda: mid in self.unsubacks, timeout)
            check(ok, "%s: no UNSUBACK within %.0f s" % (self.client_id, timeout))
            return self.unsubacks.pop(mid)

    def publish(self, topic, payload=b"", qos=0, retain=False, properties=None, wait=True,
                timeout=5.0):
        info = self.c.publish(topic, payload, qos, retain, properties=properties)
        check(info.rc == mqtt.MQTT_ERR_SUCCESS, "publish failed locally: %s" % info.rc)
        if wait and qos > 0:
            info.wait_for_publish(timeout)
            check(info.is_published(), "%s: QoS %d publish to %s not acknowledged within %.0f s"
                  % (self.client_id, qos, topic, timeout))
        return info

    def get(self, timeout=3.0, what="a message"):
        try:
            return self.msgs.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError("%s: no %s within %.1f s" % (self.client_id, what, timeout))

    def expect(self, n, timeout=3.0, what=None):
        out = []
        deadline = time.monotonic() + timeout
        while len(out) < n:
            left = deadline - time.monotonic()
            try:
                out.append(self.msgs.get(timeout=max(left, 0.001)))
            except queue.Empty:
                raise AssertionError("%s: got %d of %d %s within %.1f s: %r"
                                     % (self.client_id, len(out), n, what or "messages",
                                        timeout, out[:5]))
        return out

    def expect_none(self, duration=1.0, what="message", accept=None):
        """No message (matching accept, if given) during duration."""
        deadline = time.monotonic() + duration
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return
            try:
                m = self.msgs.get(timeout=left)
            except queue.Empty:
                return
            if accept is None or accept(m):
                raise AssertionError("%s: unexpected %s %r" % (self.client_id, what, m))

    def drain(self):
        out = []
        while True:
            try:
                out.append(self.msgs.get_nowait())
            except queue.Empty:
                return out

    def disconnect(self, properties=None):
        """Normal DISCONNECT; stops the network thread (connect() starts a new one)."""
        if self.started:
            try:
                if self.c.is_connected():
                    self.c.disconnect(properties=properties) if self.v == V5 else self.c.disconnect()
                    self.disconnected.wait(3)
            except Exception:
                pass
            self.c.loop_stop()
            self.started = False

    def close(self):
        self.disconnect()


# --- mosquitto command-line clients ----------------------------------------------------------
def cli_base(broker, v):
    return ["-h", broker.host, "-p", str(broker.mqtt_port), "-u", broker.username,
            "-P", broker.password, "-V", "mqttv5" if v == V5 else "mqttv311"]


def cli_pub(broker, v, topic, message=None, file=None, null=False, qos=1, retain=False,
            extra=(), timeout=10):
    cmd = ["mosquitto_pub"] + cli_base(broker, v) + ["-t", topic, "-q", str(qos)]
    if retain:
        cmd.append("-r")
    if file is not None:
        cmd += ["-f", file]
    elif null:
        cmd.append("-n")
    else:
        cmd += ["-m", message]
    cmd += list(extra)
    r = subprocess.run(cmd, capture_output=True, timeout=timeout)
    check(r.returncode == 0, "mosquitto_pub exited %d: %s" % (r.returncode, r.stderr.decode(errors="replace")))


def cli_sub(broker, v, topic, count=1, wait=5, fmt=None, extra=(), timeout=None):
    """Runs mosquitto_sub -C count -W wait; returns (exit code, stdout bytes)."""
    cmd = ["mosquitto_sub"] + cli_base(broker, v) + ["-t", topic, "-W", str(wait)]
    if count:
        cmd += ["-C", str(count)]
    if fmt is not None:
        cmd += ["-F", fmt]
    cmd += list(extra)
    r = subprocess.run(cmd, capture_output=True, timeout=timeout or wait + 5)
    return r.returncode, r.stdout
