#pragma once
// Progress of one long step (a disk being committed or copied) on stderr: a
// line redrawn in place on a terminal, a plain timestamped line every few
// seconds otherwise, nothing when quiet.

#include "util/log.hpp"

#include <chrono>
#include <cstdint>
#include <string>

namespace virtsnap::util {

class Progress {
  public:
    // With bytes, done/total are byte counts and the line also shows the
    // amounts, the rate and the time left.
    Progress(const Log& log, std::string label, bool bytes = false);
    ~Progress();
    Progress(const Progress&) = delete;
    Progress& operator=(const Progress&) = delete;

    void update(std::uint64_t done, std::uint64_t total);
    // Ends the redrawn line with a final message.
    void finish(const std::string& message);

  private:
    void end_line();
    std::string describe(std::uint64_t done, std::uint64_t total) const;

    const Log& log_;
    std::string label_;
    bool bytes_;
    bool terminal_;
    std::chrono::steady_clock::time_point start_;
    bool drawn_ = false;
    std::chrono::steady_clock::time_point last_;
};

} // namespace virtsnap::util
