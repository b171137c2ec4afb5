#pragma once
// The project's exception hierarchy. Every error a tool reports is one of
// these; cli::run() maps each type to a documented exit status. Messages name
// the object concerned (domain, disk target, path) and, where one exists, what
// the user can do about it.

#include <cstddef>
#include <stdexcept>
#include <string>

namespace virtsnap::util {

// Base of all virtsnap errors.
class Error : public std::runtime_error {
  public:
    explicit Error(const std::string& message) : std::runtime_error(message) {}
};

// Wrong command line: unknown option, missing argument, conflicting options.
class UsageError : public Error {
  public:
    using Error::Error;
};

// Input from outside that cannot be trusted or understood: malformed XML,
// a manifest that does not match the domain, JSON from a tool we run.
class InputError : public Error {
  public:
    using Error::Error;
};

// A precondition that makes the tool refuse to act before changing anything:
// a lock held by another run, a domain already on overlays, a required guest
// agent that does not answer.
class RefusedError : public Error {
  public:
    using Error::Error;
};

// A failed system call; carries errno.
class SystemError : public Error {
  public:
    SystemError(const std::string& context, int error_number);
    int error_number() const noexcept { return errno_; }

  private:
    int errno_;
};

// A libvirt call failed; carries libvirt's error code and domain.
class LibvirtError : public Error {
  public:
    LibvirtError(const std::string& message, int code, int domain)
        : Error(message), code_(code), domain_(domain) {}
    int code() const noexcept { return code_; }
    int domain() const noexcept { return domain_; }

  private:
    int code_;
    int domain_;
};

// A libguestfs call failed.
class GuestfsError : public Error {
  public:
    using Error::Error;
};

// A verification found a difference (content, checksum, filesystem).
class VerificationMismatch : public Error {
  public:
    using Error::Error;
};

// The run was interrupted by SIGINT/SIGTERM/SIGHUP and has cleaned up.
class Interrupted : public Error {
  public:
    using Error::Error;
};

// Some of several independent items (disks, domains) were done and others
// failed; the message says which.
class PartialFailure : public Error {
  public:
    using Error::Error;
};

// The guest's filesystems may still be frozen: every thaw failed or went
// unanswered until the bound. The message names the domain and the command
// that thaws it by hand.
class GuestFrozen : public Error {
  public:
    using Error::Error;
};

// "'path'" with the path quoted the way error messages quote objects. A
// control character (a newline, a terminal escape) is written as \n, \t or
// \xNN, and a backslash as \\, so a name from outside can neither break
// the one-line error, nor talk to the terminal, nor pass for an escape.
std::string quoted(const std::string& text);

// text with its control characters written as in quoted(), without quotes;
// a byte that is not part of valid UTF-8 is written as \xNN too. A
// backslash is doubled only with escape_backslash: a whole message, whose
// quoted names were escaped already, is printed without it.
std::string printable(const std::string& text, bool escape_backslash = false);

// The length of the valid UTF-8 sequence starting at text[at], or 0.
std::size_t utf8_sequence_length(const std::string& text, std::size_t at) noexcept;

} // namespace virtsnap::util
