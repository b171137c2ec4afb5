#include "virt/early_merge.hpp"

#include "util/error.hpp"
#include "util/interrupt.hpp"

#include <iterator>

namespace virtsnap::virt {

EarlyMerge::EarlyMerge(const Connection& conn, const Domain& domain, std::string snapshot_id,
                       MergeSettings settings, const util::Log& log)
    : conn_(conn), domain_(domain), snapshot_id_(std::move(snapshot_id)), settings_(settings), log_(log) {
    worker_ = util::start_thread([this] { run(); });
}

EarlyMerge::~EarlyMerge() {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        abandoned_ = true;
        closing_ = true;
    }
    wake_.notify_all();
    if (worker_.joinable())
        worker_.join();
}

void EarlyMerge::push(const xml::SnapshotDisk& disk) {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        queued_.push_back(disk);
    }
    wake_.notify_all();
}

void EarlyMerge::finish() {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        closing_ = true;
    }
    wake_.notify_all();
    if (worker_.joinable())
        worker_.join();
}

void EarlyMerge::run() {
    for (;;) {
        std::vector<xml::SnapshotDisk> disks;
        {
            std::unique_lock<std::mutex> lock(mutex_);
            wake_.wait(lock, [this] { return closing_ || !queued_.empty(); });
            if (abandoned_ || queued_.empty())
                return;
            // Every disk waiting is merged at once: side by side.
            disks.assign(std::make_move_iterator(queued_.begin()), std::make_move_iterator(queued_.end()));
            queued_.clear();
        }
        try {
            merge_overlays(conn_, domain_, snapshot_id_, disks, settings_, log_);
        } catch (const std::exception& error) {
            log_.info(std::string("an overlay is merged after the copy instead: ") + error.what());
        }
    }
}

} // namespace virtsnap::virt
