// TLS for the listeners (src/common): loads a PEM certificate chain and key into an OpenSSL
// context with the project's policy — TLS 1.2 or later, no renegotiation, server cipher order —
// and optionally requires client certificates signed by a CA. Shared by the HTTP and MQTT
// listeners; no Asio here, they pass their context's native handle.
#pragma once

#include <string>
#include <string_view>

#include <openssl/ssl.h>

#include "common/status.h"

namespace seaway {

// `listener` names the listener in errors ("http", "mqtt"). The certificate file may hold a
// chain (leaf first); the key must not be encrypted. With `client_ca_file`, clients must present
// a certificate that verifies against it. Errors name the file and OpenSSL's reasons.
Status ConfigureTlsContext(SSL_CTX* ctx, std::string_view listener, const std::string& cert_file,
                           const std::string& key_file, const std::string& client_ca_file = "");

// Asks clients for a certificate without requiring one or checking who signed it (a device's
// self-signed certificate, known by its fingerprint: PeerCertificateSha256). A context with a
// client CA keeps requiring and verifying. The handshake still proves the client holds the
// certificate's private key.
void RequestClientCertificates(SSL_CTX* ctx);

// Lower-case hex SHA-256 of the DER certificate the peer of `ssl` presented, or empty.
std::string PeerCertificateSha256(SSL* ssl);

// The reasons on this thread's OpenSSL error queue, which is emptied.
std::string TakeOpenSslErrors();

}  // namespace seaway
