#pragma once
// A thread that is joined when its owner goes, on every path: work run
// beside another never outlives the data it uses, even when that other
// work throws.

#include "util/interrupt.hpp"

#include <functional>
#include <thread>
#include <utility>

namespace virtsnap::util {

class JoinedThread {
  public:
    // Started as every thread virtsnap starts (util::start_thread): it
    // never takes SIGINT, SIGTERM or SIGHUP.
    explicit JoinedThread(std::function<void()> work) : thread_(start_thread(std::move(work))) {}
    ~JoinedThread() {
        if (thread_.joinable())
            thread_.join();
    }
    JoinedThread(const JoinedThread&) = delete;
    JoinedThread& operator=(const JoinedThread&) = delete;

  private:
    std::thread thread_;
};

} // namespace virtsnap::util
