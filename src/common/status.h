// Status: the error type of every library function in Seaway (src/common).
//
// A Status is either OK or carries a code from one taxonomy (below) and a message that names
// what went wrong: which file, which line, which field, which limit. Front ends map codes to
// HTTP statuses, MQTT reason codes and SQL errors in one table each; library code never throws.
//
// Thread-compatible: a Status is a value; copies are independent.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <memory>
#include <string>
#include <string_view>

#include <fmt/format.h>

namespace seaway {

// The one error taxonomy. Keep in sync with StatusCodeName() and the edge mapping tables.
enum class StatusCode : uint8_t {
  kOk = 0,
  kInvalidArgument,     // the caller's input is malformed or out of range
  kNotFound,            // a named object does not exist
  kAlreadyExists,       // creating something that exists
  kPermissionDenied,    // authenticated, but not allowed
  kUnauthenticated,     // no or bad credentials
  kResourceExhausted,   // a limit or quota is hit (memory, disk, rate); retry may succeed later
  kFailedPrecondition,  // the system is not in a state that allows the operation (read-only shard)
  kUnavailable,         // transient: overloaded or shutting down; retry later
  kIOError,             // the operating system reported an I/O failure
  kCorruption,          // stored bytes fail their checks
  kNotSupported,        // a valid request for something not implemented
  kInternal,            // an invariant broke: a bug
};

// Returns the stable, human-readable name of `code`, e.g. "InvalidArgument".
std::string_view StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  // OK. Cheap: holds a null pointer.
  Status() noexcept = default;
  Status(StatusCode code, std::string_view message);

  Status(const Status& other);
  Status& operator=(const Status& other);
  Status(Status&&) noexcept = default;
  Status& operator=(Status&&) noexcept = default;

  static Status OK() { return Status(); }

  bool ok() const { return rep_ == nullptr; }
  StatusCode code() const { return rep_ ? rep_->code : StatusCode::kOk; }
  // The message without the code; empty for OK.
  std::string_view message() const { return rep_ ? std::string_view(rep_->message) : ""; }

  // Returns a copy with `context` prepended to the message: "context: message". OK stays OK.
  Status WithContext(std::string_view context) const {
    return ok() ? Status() : AddContext(context);
  }

  // "OK" or "<CodeName>: <message>".
  std::string ToString() const;

  // Marks an intentionally ignored status (e.g. best-effort cleanup on an error path).
  void IgnoreError() const {}

  friend bool operator==(const Status& a, const Status& b) {
    return a.code() == b.code() && a.message() == b.message();
  }

 private:
  Status AddContext(std::string_view context) const;

  struct Rep {
    StatusCode code;
    std::string message;
  };
  std::unique_ptr<Rep> rep_;
};

// Constructors named after the codes, with fmt-style formatting of the message:
//   return InvalidArgument("line {}: field '{}' is not a number", line, name);
#define SEAWAY_DEFINE_STATUS_FACTORY(Name)                                                \
  template <typename... Args>                                                             \
  Status Name(fmt::format_string<Args...> format, Args&&... args) {                       \
    return Status(StatusCode::k##Name, fmt::format(format, std::forward<Args>(args)...)); \
  }
SEAWAY_DEFINE_STATUS_FACTORY(InvalidArgument)
SEAWAY_DEFINE_STATUS_FACTORY(NotFound)
SEAWAY_DEFINE_STATUS_FACTORY(AlreadyExists)
SEAWAY_DEFINE_STATUS_FACTORY(PermissionDenied)
SEAWAY_DEFINE_STATUS_FACTORY(Unauthenticated)
SEAWAY_DEFINE_STATUS_FACTORY(ResourceExhausted)
SEAWAY_DEFINE_STATUS_FACTORY(FailedPrecondition)
SEAWAY_DEFINE_STATUS_FACTORY(Unavailable)
SEAWAY_DEFINE_STATUS_FACTORY(IOError)
SEAWAY_DEFINE_STATUS_FACTORY(Corruption)
SEAWAY_DEFINE_STATUS_FACTORY(NotSupported)
SEAWAY_DEFINE_STATUS_FACTORY(Internal)
#undef SEAWAY_DEFINE_STATUS_FACTORY

// Writes ToString(); lets tests print a Status on failure.
std::ostream& operator<<(std::ostream& os, const Status& status);

// An IOError for a failed system call: "<what> '<path>': <strerror(err)>".
Status ErrnoError(std::string_view what, std::string_view path, int err);

}  // namespace seaway

// Returns from the enclosing function if `expr` (a Status) is not OK.
#define SW_RETURN_IF_ERROR(expr)             \
  do {                                       \
    ::seaway::Status sw_status_ = (expr);    \
    if (!sw_status_.ok()) return sw_status_; \
  } while (false)

template <>
struct fmt::formatter<seaway::Status> : fmt::formatter<std::string> {
  auto format(const seaway::Status& s, fmt::format_context& ctx) const {
    return fmt::formatter<std::string>::format(s.ToString(), ctx);
  }
};
