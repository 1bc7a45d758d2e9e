// Result<T>: a value or the Status explaining why there is none (src/common).
//
//   Result<Segment> OpenSegment(...);
//   SW_ASSIGN_OR_RETURN(auto segment, OpenSegment(path));
//
// A Result built from an OK Status is a programming error; it becomes an Internal error so that
// callers never see "no value, but OK".
//
// Thread-compatible.
#pragma once

#include <optional>
#include <type_traits>
#include <utility>
#include <variant>

#include "common/status.h"

namespace seaway {

template <typename T>
class [[nodiscard]] Result {
  static_assert(!std::is_same_v<std::decay_t<T>, Status>, "Result<Status> makes no sense");

 public:
  // A failed result. `status` must not be OK.
  Result(Status status)  // NOLINT(google-explicit-constructor): `return Status` reads naturally.
      : rep_(std::move(status)) {
    if (std::get<Status>(rep_).ok()) {
      rep_ = Status(StatusCode::kInternal, "Result constructed from an OK Status");
    }
  }

  // A successful result holding `value`.
  template <typename U = T,
            typename = std::enable_if_t<std::is_constructible_v<T, U&&> &&
                                        !std::is_same_v<std::decay_t<U>, Status> &&
                                        !std::is_same_v<std::decay_t<U>, Result<T>>>>
  Result(U&& value)  // NOLINT(google-explicit-constructor)
      : rep_(std::in_place_index<1>, std::forward<U>(value)) {}

  bool ok() const { return rep_.index() == 1; }

  // OK when a value is held.
  Status status() const& { return ok() ? Status() : std::get<0>(rep_); }
  Status status() && { return ok() ? Status() : std::move(std::get<0>(rep_)); }

  // REQUIRES: ok().
  T& value() & { return std::get<1>(rep_); }
  const T& value() const& { return std::get<1>(rep_); }
  T&& value() && { return std::move(std::get<1>(rep_)); }

  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  template <typename U>
  T value_or(U&& fallback) const& {
    return ok() ? value() : static_cast<T>(std::forward<U>(fallback));
  }

 private:
  std::variant<Status, T> rep_;
};

}  // namespace seaway

#define SW_CONCAT_INNER(a, b) a##b
#define SW_CONCAT(a, b) SW_CONCAT_INNER(a, b)

// Evaluates `expr` (a Result<T>); on error returns its Status from the enclosing function,
// otherwise assigns the value to `lhs`, which may be a declaration (`auto x`).
#define SW_ASSIGN_OR_RETURN(lhs, expr) \
  SW_ASSIGN_OR_RETURN_IMPL(SW_CONCAT(sw_result_, __LINE__), lhs, expr)
#define SW_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                             \
  if (!tmp.ok()) return std::move(tmp).status(); \
  lhs = std::move(tmp).value()
