// ByteLink and ByteSink: a byte stream between a transport and a protocol engine (src/common).
//
// A transport (the MQTT TCP/TLS listener, a WebSocket upgraded on the HTTP listener, a test)
// owns the socket and implements ByteLink; the protocol side (the MQTT broker's connection)
// implements ByteSink and is fed the bytes read. Neither side knows the other's types, so the
// HTTP server can carry MQTT over WebSocket without depending on the broker.
#pragma once

#include <string>
#include <string_view>

namespace seaway {

// The transport side. Thread-safe.
class ByteLink {
 public:
  virtual ~ByteLink() = default;
  // Queues bytes for the peer. `droppable` bytes may be dropped when the peer reads too slowly;
  // returns false when they were dropped (or the link is closed).
  virtual bool Send(std::string bytes, bool droppable) = 0;
  // Closes once the queued bytes are written.
  virtual void Close() = 0;
  // Reading was paused by ByteSink::OnBytes returning false; starts it again.
  virtual void ResumeReading() = 0;
  // The peer's address, for logs.
  virtual std::string peer() const = 0;
  // Lower-case hex SHA-256 of the DER certificate the peer presented in a TLS handshake (an
  // X.509 client certificate, e.g. a device's), or empty: not TLS, or no certificate.
  virtual std::string peer_certificate_sha256() const { return {}; }
};

// The protocol side. Calls on one sink are serialized by its transport.
class ByteSink {
 public:
  virtual ~ByteSink() = default;
  // Bytes read from the peer. Returns false to pause reading (ByteLink::ResumeReading resumes).
  virtual bool OnBytes(std::string_view data) = 0;
  // The peer is gone (EOF, error, or the link closed); called once.
  virtual void OnClosed() = 0;
};

}  // namespace seaway
