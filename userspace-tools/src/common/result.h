// SPDX-License-Identifier: GPL-2.0
//
// Errors as values for the htier guest tools: a Result<T> holds either a
// value or an Error (errno, if any, plus a message a user can read).  No
// exceptions cross a module boundary in these tools.
#pragma once

#include <cerrno>
#include <cstring>
#include <string>
#include <utility>
#include <variant>

namespace htier {

struct Error {
  int errnum = 0;       // errno of the failing call, 0 when not a syscall
  std::string message;  // complete sentence fragment, errno text included

  // "what: strerror(errnum)"
  static Error fromErrno(const std::string& what, int err) {
    return Error{err, what + ": " + std::strerror(err)};
  }
  static Error msg(std::string text) { return Error{0, std::move(text)}; }
};

template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Error error) : v_(std::move(error)) {}  // NOLINT

  bool ok() const { return std::holds_alternative<T>(v_); }
  explicit operator bool() const { return ok(); }

  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const Error& error() const { return std::get<Error>(v_); }

  template <class U>
  T valueOr(U&& fallback) const {
    return ok() ? value() : static_cast<T>(std::forward<U>(fallback));
  }

 private:
  std::variant<T, Error> v_;
};

struct Ok {};
using Status = Result<Ok>;
inline Status okStatus() { return Ok{}; }

}  // namespace htier
