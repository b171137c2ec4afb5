#pragma once
// Messages for people go to stderr, prefixed with the tool's name; stdout is
// reserved for data (manifests, listings).

#include "util/unique_fd.hpp"

#include <string>

namespace virtsnap::util {

enum class Verbosity { quiet, normal, verbose };

class Log {
  public:
    Log(std::string program, Verbosity verbosity) : program_(std::move(program)), verbosity_(verbosity) {}

    // Progress and notices: hidden by --quiet.
    void info(const std::string& message) const;
    // Something the user should know even with --quiet (a skipped disk, a
    // crash-consistent snapshot taken instead of a quiesced one).
    void warn(const std::string& message) const;
    // Details shown only with --verbose.
    void debug(const std::string& message) const;

    // The one line redrawn in place on a terminal (progress). Each owner (a
    // disk's progress) has its part of the line, so disks copied in parallel
    // show side by side instead of taking turns; a message written meanwhile
    // goes above the line, which is then drawn again.
    void draw_status(const void* owner, const std::string& text) const;
    void clear_status(const void* owner) const;

    Verbosity verbosity() const noexcept { return verbosity_; }
    const std::string& program() const noexcept { return program_; }

  private:
    void write(const std::string& line) const;

    std::string program_;
    Verbosity verbosity_;
};

// While it lives, every line any Log of the process writes (not the
// progress line) goes to fd as well: virtsnap-backup --log-file. A write
// that fails (a full disk) is not retried; stderr still has everything.
class LogCopy {
  public:
    explicit LogCopy(UniqueFd fd);
    ~LogCopy();
    LogCopy(const LogCopy&) = delete;
    LogCopy& operator=(const LogCopy&) = delete;

    // Adds text to the file only (the error line the tool prints last).
    void append(const std::string& text) const;
    // Flushes what was written to the disk.
    void sync() const;

  private:
    UniqueFd fd_;
};

} // namespace virtsnap::util
