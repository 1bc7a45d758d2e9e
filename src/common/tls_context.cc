// TLS context setup for the listeners (src/common).
#include "common/tls_context.h"

#include <cerrno>
#include <cstdio>
#include <memory>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "common/result.h"

namespace seaway {
namespace {

Result<std::string> ReadTlsFile(std::string_view listener, const std::string& path,
                                std::string_view what) {
  std::unique_ptr<std::FILE, decltype(&std::fclose)> file(std::fopen(path.c_str(), "rb"),
                                                          &std::fclose);
  if (file == nullptr) {
    return ErrnoError(fmt::format("{} listener: cannot read {}", listener, what), path, errno);
  }
  std::string text;
  char chunk[16 * 1024];
  size_t n;
  while ((n = std::fread(chunk, 1, sizeof(chunk), file.get())) > 0) text.append(chunk, n);
  if (std::ferror(file.get())) {
    return ErrnoError(fmt::format("{} listener: cannot read {}", listener, what), path, errno);
  }
  return text;
}

// Never asks for a pass phrase (OpenSSL's default would prompt on the terminal).
int NoPassPhrase(char*, int, int, void*) { return 0; }

using Bio = std::unique_ptr<BIO, decltype(&BIO_free)>;
Bio MemoryBio(const std::string& text) {
  return Bio(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())), &BIO_free);
}

}  // namespace

std::string TakeOpenSslErrors() {
  std::string out;
  while (unsigned long e = ERR_get_error()) {
    const char* reason = ERR_reason_error_string(e);
    if (!out.empty()) out += "; ";
    out += reason != nullptr ? std::string(reason) : fmt::format("OpenSSL error {:#x}", e);
  }
  return out.empty() ? std::string("unknown OpenSSL error") : out;
}

Status ConfigureTlsContext(SSL_CTX* native, std::string_view listener, const std::string& cert_file,
                           const std::string& key_file, const std::string& client_ca_file) {
  SW_ASSIGN_OR_RETURN(std::string cert_pem,
                      ReadTlsFile(listener, cert_file, "TLS certificate file"));
  SW_ASSIGN_OR_RETURN(std::string key_pem, ReadTlsFile(listener, key_file, "TLS key file"));
  ERR_clear_error();
  if (SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION) != 1) {
    return Internal("{} listener: cannot require TLS 1.2: {}", listener, TakeOpenSslErrors());
  }
  SSL_CTX_set_options(native, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);

  // The leaf certificate first, then any intermediates, as SSL_CTX_use_certificate_chain_file.
  Bio cert_bio = MemoryBio(cert_pem);
  std::unique_ptr<X509, decltype(&X509_free)> leaf(
      PEM_read_bio_X509_AUX(cert_bio.get(), nullptr, NoPassPhrase, nullptr), &X509_free);
  if (leaf == nullptr || SSL_CTX_use_certificate(native, leaf.get()) != 1) {
    return InvalidArgument(
        "{} listener: TLS certificate file '{}' holds no usable PEM certificate: {}", listener,
        cert_file, TakeOpenSslErrors());
  }
  while (X509* intermediate = PEM_read_bio_X509(cert_bio.get(), nullptr, NoPassPhrase, nullptr)) {
    if (SSL_CTX_add0_chain_cert(native, intermediate) != 1) {
      X509_free(intermediate);
      return InvalidArgument(
          "{} listener: TLS certificate file '{}': cannot add a chain certificate: {}", listener,
          cert_file, TakeOpenSslErrors());
    }
  }
  // The loop ends at the end of the file ("no start line") or at a certificate that is damaged.
  const unsigned long last = ERR_peek_last_error();
  if (last != 0 &&
      !(ERR_GET_LIB(last) == ERR_LIB_PEM && ERR_GET_REASON(last) == PEM_R_NO_START_LINE)) {
    return InvalidArgument(
        "{} listener: TLS certificate file '{}': a chain certificate does not parse: {}", listener,
        cert_file, TakeOpenSslErrors());
  }
  ERR_clear_error();

  Bio key_bio = MemoryBio(key_pem);
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(
      PEM_read_bio_PrivateKey(key_bio.get(), nullptr, NoPassPhrase, nullptr), &EVP_PKEY_free);
  if (key == nullptr) {
    return InvalidArgument(
        "{} listener: TLS key file '{}' holds no unencrypted PEM private key: {}", listener,
        key_file, TakeOpenSslErrors());
  }
  if (SSL_CTX_use_PrivateKey(native, key.get()) != 1 || SSL_CTX_check_private_key(native) != 1) {
    return InvalidArgument(
        "{} listener: TLS key file '{}' does not match the certificate in '{}': {}", listener,
        key_file, cert_file, TakeOpenSslErrors());
  }

  // Peers may be asked for certificates (client CAs, RequestClientCertificates): OpenSSL refuses
  // to resume sessions without a session id context then.
  static constexpr unsigned char kSessionContext[] = "seaway";
  SSL_CTX_set_session_id_context(native, kSessionContext, sizeof(kSessionContext) - 1);

  if (!client_ca_file.empty()) {
    SW_ASSIGN_OR_RETURN(std::string ca_pem,
                        ReadTlsFile(listener, client_ca_file, "TLS client CA file"));
    X509_STORE* store = SSL_CTX_get_cert_store(native);
    Bio ca_bio = MemoryBio(ca_pem);
    int loaded = 0;
    while (X509* ca = PEM_read_bio_X509(ca_bio.get(), nullptr, NoPassPhrase, nullptr)) {
      const int ok = X509_STORE_add_cert(store, ca);
      X509_free(ca);
      if (ok != 1) {
        return InvalidArgument("{} listener: TLS client CA file '{}': cannot add a CA: {}",
                               listener, client_ca_file, TakeOpenSslErrors());
      }
      ++loaded;
    }
    ERR_clear_error();
    if (loaded == 0) {
      return InvalidArgument("{} listener: TLS client CA file '{}' holds no PEM certificate",
                             listener, client_ca_file);
    }
    SSL_CTX_set_verify(native, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
  }
  return Status::OK();
}

void RequestClientCertificates(SSL_CTX* ctx) {
  if (SSL_CTX_get_verify_mode(ctx) & SSL_VERIFY_FAIL_IF_NO_PEER_CERT) return;  // a client CA
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, [](int, X509_STORE_CTX*) { return 1; });
}

std::string PeerCertificateSha256(SSL* ssl) {
  X509* cert = SSL_get1_peer_certificate(ssl);
  if (cert == nullptr) return {};
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  const int ok = X509_digest(cert, EVP_sha256(), digest, &length);
  X509_free(cert);
  if (ok != 1) return {};
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < length; ++i) {
    out += kDigits[digest[i] >> 4];
    out += kDigits[digest[i] & 15];
  }
  return out;
}

}  // namespace seaway
