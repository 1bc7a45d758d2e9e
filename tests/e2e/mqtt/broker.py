"""Broker harness for the MQTT black-box tests (tests/e2e/mqtt).

Starts a broker on free loopback ports in a temporary directory and can stop/restart it keeping
its data, so persistence can be tested.

  kind "mosquitto": /usr/sbin/mosquitto with a generated config (anonymous allowed, persistence
                    on, $SYS every second). Any credentials work.
  kind "seaway":    SEAWAY_ADMIN_TOKEN=<token> BIN serve --data-dir DIR --http 127.0.0.1:H
                    --mqtt 127.0.0.1:M. Clients authenticate with any username and the token as
                    password; the same token is the HTTP API token.

Usage:
    with Broker("mosquitto") as b:
        b.host, b.mqtt_port, b.http_port, b.username, b.password
        b.restart()          # SIGTERM, wait, start again on the same ports with the same data

Both brokers persist their state on a clean shutdown (SIGTERM); restart() relies on that.
"""

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

MOSQUITTO_BIN = "/usr/sbin/mosquitto"
SEAWAY_TOKEN = "e2e-mqtt-conformance-token-0123456789abcdef"


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_accepts(host, port, timeout=0.2):
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


class BrokerError(Exception):
    pass


class Broker:
    def __init__(self, kind, seaway_bin=None, keep_dir=False):
        if kind not in ("mosquitto", "seaway"):
            raise ValueError("kind must be mosquitto or seaway")
        self.kind = kind
        self.host = "127.0.0.1"
        self.mqtt_port = free_port()
        self.http_port = free_port() if kind == "seaway" else None
        self.dir = tempfile.mkdtemp(prefix="mqtt_e2e_%s_" % kind)
        self.data_dir = os.path.join(self.dir, "data")
        os.makedirs(self.data_dir, exist_ok=True)
        self.log_path = os.path.join(self.dir, "broker.log")
        self.keep_dir = keep_dir
        self.proc = None
        self.starts = 0
        if kind == "seaway":
            self.bin = seaway_bin or os.environ.get("SEAWAY_BIN") or os.path.join(
                os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "bin", "seaway")
            if not os.path.exists(self.bin):
                raise BrokerError("seaway binary not found: %s (use --seaway-bin)" % self.bin)
            self.bin = os.path.abspath(self.bin)
            self.token = SEAWAY_TOKEN
            self.username = "e2e"
            self.password = SEAWAY_TOKEN
        else:
            self.bin = MOSQUITTO_BIN
            self.token = None
            self.username = "e2e"
            self.password = "any-password"
            self._write_mosquitto_config()

    # -- configuration ----------------------------------------------------------------------
    def _write_mosquitto_config(self):
        self.config_path = os.path.join(self.dir, "mosquitto.conf")
        lines = [
            "per_listener_settings false",
            "listener %d %s" % (self.mqtt_port, self.host),
            "allow_anonymous true",
            "persistence true",
            "persistence_location %s/" % self.data_dir,
            "autosave_interval 1",
            "sys_interval 1",
            "log_dest stderr",
            "log_type error",
            "log_type warning",
            "log_type notice",
            "log_type information",
            "log_timestamp true",
            "connection_messages true",
        ]
        if os.geteuid() == 0:
            # mosquitto drops root privileges to user "mosquitto" unless told otherwise; that
            # user could not write the persistence file into our temp dir.
            lines.append("user root")
        with open(self.config_path, "w") as f:
            f.write("\n".join(lines) + "\n")

    def _command(self):
        if self.kind == "mosquitto":
            return [self.bin, "-c", self.config_path], dict(os.environ)
        env = dict(os.environ)
        env["SEAWAY_ADMIN_TOKEN"] = self.token
        return ([self.bin, "serve", "--data-dir", self.data_dir,
                 "--http", "%s:%d" % (self.host, self.http_port),
                 "--mqtt", "%s:%d" % (self.host, self.mqtt_port)], env)

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self, timeout=15.0):
        if self.proc is not None:
            raise BrokerError("already running")
        cmd, env = self._command()
        log = open(self.log_path, "ab")
        log.write(("=== start %d: %s\n" % (self.starts + 1, " ".join(cmd))).encode())
        log.flush()
        self.proc = subprocess.Popen(cmd, env=env, stdin=subprocess.DEVNULL,
                                     stdout=log, stderr=log, cwd=self.dir)
        log.close()
        self.starts += 1
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                rc = self.proc.returncode
                self.proc = None
                raise BrokerError("%s exited with %s during startup; log:\n%s"
                                  % (self.kind, rc, self.log_tail()))
            if port_accepts(self.host, self.mqtt_port) and (
                    self.http_port is None or port_accepts(self.host, self.http_port)):
                return self
            time.sleep(0.05)
        self.stop()
        raise BrokerError("%s did not accept connections on %d within %.0f s; log:\n%s"
                          % (self.kind, self.mqtt_port, timeout, self.log_tail()))

    def stop(self, timeout=15.0):
        """SIGTERM and wait (the broker saves its state); SIGKILL after timeout."""
        if self.proc is None:
            return None
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait()
        self.proc = None
        # Make sure the port is really released before anyone restarts on it.
        deadline = time.monotonic() + 5
        while port_accepts(self.host, self.mqtt_port) and time.monotonic() < deadline:
            time.sleep(0.05)
        return rc

    def restart(self):
        self.stop()
        return self.start()

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def close(self):
        self.stop()
        if not self.keep_dir:
            shutil.rmtree(self.dir, ignore_errors=True)

    def log_tail(self, n=40):
        try:
            with open(self.log_path, "rb") as f:
                lines = f.read().decode(errors="replace").splitlines()
            return "\n".join(lines[-n:])
        except OSError:
            return "(no log)"

    @property
    def credentials(self):
        return (self.username, self.password)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.close()
        return False


if __name__ == "__main__":
    import argparse
    ap = argparse.ArgumentParser(description="start a broker and print its ports until Ctrl-C")
    ap.add_argument("--broker", default="mosquitto", choices=["mosquitto", "seaway"])
    ap.add_argument("--seaway-bin")
    a = ap.parse_args()
    with Broker(a.broker, a.seaway_bin) as b:
        print("mqtt %s:%d http %s user %s password %s dir %s"
              % (b.host, b.mqtt_port, b.http_port, b.username, b.password, b.dir), flush=True)
        try:
            while b.alive():
                time.sleep(0.5)
        except KeyboardInterrupt:
            pass
