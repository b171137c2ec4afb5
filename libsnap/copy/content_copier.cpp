#include "copy/content_copier.hpp"

#include "util/error.hpp"
#include "util/interrupt.hpp"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <exception>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

namespace virtsnap::copy {

namespace {

constexpr std::uint64_t window_size = 2ULL << 20;
constexpr size_t buffer_count = 4;

std::uint64_t align_down(std::uint64_t value, std::uint64_t unit) {
    return value - value % unit;
}

std::uint64_t align_up(std::uint64_t value, std::uint64_t unit) {
    return align_down(value + unit - 1, unit);
}

struct Run {
    std::uint64_t offset; // guest offset
    std::uint64_t length;
    std::uint64_t in_buffer;
};

struct Piece {
    const image::Extent* extent;
    std::uint64_t start;
    std::uint64_t end;
};

// A window read into a buffer whose zero blocks are still to find and hash
// (on the writing thread: see copy_content).
struct Window {
    std::uint64_t start = 0;
    std::uint64_t end = 0;
    std::vector<Piece> pieces;
};

struct Task {
    int buffer = -1; // -1: a zero write of runs
    std::vector<Run> runs;
    std::optional<Window> window; // runs still to make from it
};

// What is written of a window: its data runs, and, before them, the whole
// clusters of zeros a layer records as zero clusters.
struct WindowRuns {
    std::vector<Run> data;
    std::vector<Run> zeroes;
};

WindowRuns process(const CopyPlan& plan, const Window& window, const char* buffer,
                   image::ContentHasher* hasher);

struct FreeDeleter {
    void operator()(char* p) const noexcept { std::free(p); }
};

// The thread that writes what the reading thread has read and hashed, and
// the buffers they share, so reading and writing overlap.
class WritePipeline {
  public:
    // Without a writer (only hashing) there is no thread: buffers come back
    // as soon as they are submitted.
    // plan and hasher: for the windows submitted unprocessed.
    WritePipeline(image::ImageWriter* writer, const CopyPlan& plan, image::ContentHasher* hasher)
        : writer_(writer), plan_(plan), hasher_(hasher) {
        for (size_t i = 0; i < buffer_count; ++i) {
            void* memory = nullptr;
            if (::posix_memalign(&memory, 4096, window_size) != 0)
                throw std::bad_alloc();
            buffers_.emplace_back(static_cast<char*>(memory));
            free_.push_back(static_cast<int>(i));
        }
        if (writer_)
            thread_ = util::start_thread([this] { work(); });
    }

    ~WritePipeline() {
        // Unwinding after a failure: what is still queued is not written.
        {
            std::lock_guard<std::mutex> lock(mutex_);
            tasks_.clear();
        }
        stop();
    }

    // A buffer the reader may fill; waits for the writer to release one.
    int acquire() {
        std::unique_lock<std::mutex> lock(mutex_);
        changed_.wait(lock, [this] { return !free_.empty() || error_; });
        rethrow_locked();
        int index = free_.front();
        free_.pop_front();
        return index;
    }

    char* buffer(int index) { return buffers_[static_cast<size_t>(index)].get(); }

    void submit(Task task) {
        if (!writer_) {
            release(task.buffer);
            return;
        }
        std::lock_guard<std::mutex> lock(mutex_);
        rethrow_locked();
        tasks_.push_back(std::move(task));
        changed_.notify_all();
    }

    // Waits until everything submitted is written; rethrows an error of the
    // thread.
    void drain() {
        stop();
        std::lock_guard<std::mutex> lock(mutex_);
        rethrow_locked();
    }

    // The time the thread spent processing windows (read after drain).
    std::chrono::nanoseconds processing() const noexcept { return processing_; }

  private:
    void release(int index) {
        if (index < 0)
            return;
        std::lock_guard<std::mutex> lock(mutex_);
        free_.push_back(index);
        changed_.notify_all();
    }

    void rethrow_locked() {
        if (error_)
            std::rethrow_exception(error_);
    }

    void stop() {
        {
            std::lock_guard<std::mutex> lock(mutex_);
            closing_ = true;
            changed_.notify_all();
        }
        if (thread_.joinable())
            thread_.join();
    }

    void work() {
        for (;;) {
            Task task;
            {
                std::unique_lock<std::mutex> lock(mutex_);
                changed_.wait(lock, [this] { return !tasks_.empty() || closing_; });
                if (tasks_.empty() || error_)
                    return;
                task = std::move(tasks_.front());
                tasks_.pop_front();
            }
            try {
                if (task.window) {
                    const auto begin = std::chrono::steady_clock::now();
                    WindowRuns runs = process(plan_, *task.window, buffer(task.buffer), hasher_);
                    processing_ += std::chrono::steady_clock::now() - begin;
                    // Before the data: a cluster is never partly data and
                    // partly zero cluster, so the order does not matter to
                    // the image.
                    for (const Run& run : runs.zeroes)
                        writer_->write_zeroes(run.length, run.offset);
                    task.runs = std::move(runs.data);
                }
                for (const Run& run : task.runs) {
                    if (task.buffer < 0)
                        writer_->write_zeroes(run.length, run.offset);
                    else
                        writer_->write(buffer(task.buffer) + run.in_buffer, run.length, run.offset);
                }
            } catch (...) {
                std::lock_guard<std::mutex> lock(mutex_);
                error_ = std::current_exception();
                changed_.notify_all();
                return;
            }
            release(task.buffer);
        }
    }

    image::ImageWriter* writer_;
    const CopyPlan& plan_;
    image::ContentHasher* hasher_;
    std::chrono::nanoseconds processing_{0};
    std::vector<std::unique_ptr<char, FreeDeleter>> buffers_;
    std::mutex mutex_;
    std::condition_variable changed_;
    std::deque<int> free_;
    std::deque<Task> tasks_;
    std::exception_ptr error_;
    bool closing_ = false;
    std::thread thread_;
};

// Fills the window's buffer: zeros around the pieces up to whole write
// units, then the pieces' content.
void fill_window(std::uint64_t window_start, std::uint64_t window_end, const std::vector<Piece>& pieces,
                 std::uint64_t unit, SourceReader& reader, char* buffer) {
    for (const Piece& piece : pieces) {
        std::uint64_t head = std::max(align_down(piece.start, unit), window_start);
        std::uint64_t tail = std::min(align_up(piece.end, unit), window_end);
        std::memset(buffer + (head - window_start), 0, piece.start - head);
        std::memset(buffer + (piece.end - window_start), 0, tail - piece.end);
    }
    for (const Piece& piece : pieces)
        reader.read(*piece.extent, piece.start, buffer + (piece.start - window_start),
                    piece.end - piece.start);
}

// Hashes the non-zero blocks of the window and lists what to write.
std::vector<Run> process_window(const CopyPlan& plan, std::uint64_t window_start, std::uint64_t window_end,
                                const std::vector<Piece>& pieces, const char* buffer,
                                image::ContentHasher* hasher) {
    const std::uint64_t unit = plan.write_unit;
    std::vector<Run> runs;
    auto add_run = [&](std::uint64_t start, std::uint64_t end) {
        if (!runs.empty() && runs.back().offset + runs.back().length == start)
            runs.back().length += end - start;
        else
            runs.push_back({start, end - start, start - window_start});
    };
    std::uint64_t hashed_to = window_start;
    for (const Piece& piece : pieces) {
        std::uint64_t unit_start = std::max(align_down(piece.start, unit), window_start);
        std::uint64_t unit_end = std::min(align_up(piece.end, unit), window_end);
        for (std::uint64_t u = std::max(unit_start, align_down(hashed_to, unit)); u < unit_end; u += unit) {
            std::uint64_t u_end = std::min(u + unit, window_end);
            bool any = false;
            for (std::uint64_t b = std::max(u, align_down(hashed_to, image::hash_block_size)); b < u_end;
                 b += image::hash_block_size) {
                if (b < hashed_to)
                    continue;
                std::uint64_t b_end = std::min(b + image::hash_block_size, window_end);
                const char* block = buffer + (b - window_start);
                if (!image::is_zero(block, b_end - b)) {
                    if (hasher)
                        hasher->add_block(b, block, b_end - b);
                    any = true;
                }
                hashed_to = b_end;
            }
            if (plan.write_zero_blocks)
                continue;
            if (any)
                add_run(u, u_end);
        }
        if (plan.write_zero_blocks)
            add_run(piece.start, piece.end);
    }
    return runs;
}

// The whole clusters of zeros inside runs, taken out of them: returned as
// runs of their own, to be written as zero clusters.
std::vector<Run> take_zero_clusters(std::vector<Run>& runs, std::uint64_t cluster, const char* buffer) {
    std::vector<Run> data, zeroes;
    auto add = [](std::vector<Run>& to, std::uint64_t offset, std::uint64_t length, std::uint64_t in_buffer) {
        if (length == 0)
            return;
        if (!to.empty() && to.back().offset + to.back().length == offset)
            to.back().length += length;
        else
            to.push_back({offset, length, in_buffer});
    };
    for (const Run& run : runs) {
        const std::uint64_t end = run.offset + run.length;
        std::uint64_t at = run.offset;
        for (std::uint64_t c = align_up(run.offset, cluster); c + cluster <= end; c += cluster) {
            const std::uint64_t in_buffer = run.in_buffer + (c - run.offset);
            if (!image::is_zero(buffer + in_buffer, cluster))
                continue;
            add(data, at, c - at, run.in_buffer + (at - run.offset));
            add(zeroes, c, cluster, 0);
            at = c + cluster;
        }
        add(data, at, end - at, run.in_buffer + (at - run.offset));
    }
    runs = std::move(data);
    return zeroes;
}

WindowRuns process(const CopyPlan& plan, const Window& window, const char* buffer,
                   image::ContentHasher* hasher) {
    WindowRuns runs;
    runs.data = process_window(plan, window.start, window.end, window.pieces, buffer, hasher);
    if (plan.write_zero_blocks && plan.zero_clusters > 0)
        runs.zeroes = take_zero_clusters(runs.data, plan.zero_clusters, buffer);
    return runs;
}

} // namespace

std::uint64_t CopyPlan::data_length() const noexcept {
    std::uint64_t total = 0;
    for (const image::Extent& extent : data)
        total += extent.length;
    return total;
}

namespace {

// The part of an extent inside the disk: a qcow2 holding a disk of odd size
// maps up to the next 512-byte boundary, past the disk's end.
image::Extent clipped(image::Extent extent, std::uint64_t virtual_size) {
    extent.length = std::min(extent.end(), virtual_size) - extent.start;
    return extent;
}

} // namespace

CopyPlan plan_flattened(const std::vector<image::Extent>& map, std::uint64_t virtual_size) {
    CopyPlan plan;
    plan.virtual_size = virtual_size;
    for (const image::Extent& extent : map)
        if (extent.data && extent.start < virtual_size)
            plan.data.push_back(clipped(extent, virtual_size));
    return plan;
}

CopyPlan plan_layer(const std::vector<image::Extent>& map, std::uint64_t virtual_size, bool has_backing) {
    CopyPlan plan;
    plan.virtual_size = virtual_size;
    plan.write_zero_blocks = has_backing;
    for (const image::Extent& extent : map) {
        if (extent.depth != 0 || extent.start >= virtual_size)
            continue;
        if (extent.data)
            plan.data.push_back(clipped(extent, virtual_size));
        else if (extent.zero && extent.present && has_backing)
            plan.zeroes.push_back(clipped(extent, virtual_size));
    }
    return plan;
}

namespace {

// The part [start, end) of an extent that holds it, its file offset moved along.
image::Extent part_of(image::Extent extent, std::uint64_t start, std::uint64_t end) {
    if (extent.offset)
        *extent.offset += start - extent.start;
    extent.start = start;
    extent.length = end - start;
    return extent;
}

} // namespace

std::vector<image::Extent> merged_ranges(std::vector<image::Extent> ranges) {
    std::sort(ranges.begin(), ranges.end(),
              [](const image::Extent& a, const image::Extent& b) { return a.start < b.start; });
    std::vector<image::Extent> merged;
    for (const image::Extent& range : ranges) {
        if (range.length == 0)
            continue;
        if (!merged.empty() && range.start <= merged.back().end()) {
            merged.back().length = std::max(merged.back().end(), range.end()) - merged.back().start;
            continue;
        }
        image::Extent plain;
        plain.start = range.start;
        plain.length = range.length;
        merged.push_back(plain);
    }
    return merged;
}

std::vector<image::Extent> whole_clusters(std::vector<image::Extent> ranges, std::uint64_t unit,
                                          std::uint64_t virtual_size) {
    for (image::Extent& range : ranges) {
        const std::uint64_t start = align_down(range.start, unit);
        const std::uint64_t end = std::min(align_up(range.end(), unit), virtual_size);
        range.start = start;
        range.length = end > start ? end - start : 0;
    }
    return merged_ranges(std::move(ranges));
}

CopyPlan plan_changed(const std::vector<image::Extent>& map, const std::vector<image::Extent>& changed,
                      std::uint64_t virtual_size) {
    CopyPlan plan;
    plan.virtual_size = virtual_size;
    plan.write_zero_blocks = true;
    std::size_t c = 0;
    for (const image::Extent& extent : map) {
        const std::uint64_t end = std::min(extent.end(), virtual_size);
        while (c < changed.size() && changed[c].end() <= extent.start)
            ++c;
        for (std::size_t i = c; i < changed.size() && changed[i].start < end; ++i) {
            const std::uint64_t from = std::max(extent.start, changed[i].start);
            const std::uint64_t to = std::min(end, changed[i].end());
            if (from >= to)
                continue;
            (extent.data ? plan.data : plan.zeroes).push_back(part_of(extent, from, to));
        }
    }
    return plan;
}

CopyStats copy_content(const CopyPlan& plan, SourceReader& reader, image::ImageWriter* writer,
                       image::ContentHasher* hasher, const ProgressFn& progress) {
    if (plan.write_unit % image::hash_block_size != 0 || window_size % plan.write_unit != 0)
        throw util::Error("internal error: write unit " + std::to_string(plan.write_unit) + " does not fit");
    // Every extent inside the disk and in order, or the loop below would
    // never pass the last one.
    for (size_t i = 0; i < plan.data.size(); ++i)
        if (plan.data[i].length == 0 || plan.data[i].end() > plan.virtual_size ||
            (i > 0 && plan.data[i].start < plan.data[i - 1].end()))
            throw util::Error("internal error: data extent at " + std::to_string(plan.data[i].start) +
                              " is empty, out of order or past the disk's end");
    WritePipeline pipeline(writer, plan, hasher);
    if (!plan.zeroes.empty()) {
        Task task;
        for (const image::Extent& extent : plan.zeroes)
            task.runs.push_back({extent.start, std::min(extent.end(), plan.virtual_size) - extent.start, 0});
        pipeline.submit(std::move(task));
    }
    // Where the zero blocks are found and the window hashed. Read through
    // the page cache, on this thread, while the window is still in this
    // core's cache: on the writing thread the same work took half as long
    // again (bench chain, 10 rounds: 87-131 ms there, 55-78 ms here), and
    // the kernel's read-ahead keeps the storage busy meanwhile. Read past
    // the cache, there is no read-ahead: this thread's next read waits for
    // the storage, so the writing thread does that work while this one
    // reads (a 4 GiB qcow2, cold, medians of 5 runs: 6.0 s here, 5.5 s
    // there).
    const bool process_on_writer = writer && reader.uncached();

    const std::uint64_t total = plan.data_length();
    std::uint64_t done = 0;
    size_t next = 0; // first data extent not wholly processed
    std::uint64_t position = 0;
    std::chrono::nanoseconds hashing{0};
    while (next < plan.data.size()) {
        util::throw_if_interrupted();
        Window window;
        window.start = align_down(std::max(plan.data[next].start, position), window_size);
        window.end = std::min(window.start + window_size, plan.virtual_size);
        for (size_t i = next; i < plan.data.size() && plan.data[i].start < window.end; ++i) {
            std::uint64_t start = std::max({plan.data[i].start, window.start, position});
            std::uint64_t end = std::min(plan.data[i].end(), window.end);
            if (start < end)
                window.pieces.push_back({&plan.data[i], start, end});
        }
        int index = pipeline.acquire();
        char* buffer = pipeline.buffer(index);
        fill_window(window.start, window.end, window.pieces, plan.write_unit, reader, buffer);
        for (const Piece& piece : window.pieces)
            done += piece.end - piece.start;
        position = window.end;
        Task task;
        task.buffer = index;
        if (process_on_writer) {
            task.window = std::move(window);
        } else {
            const auto begin = std::chrono::steady_clock::now();
            WindowRuns runs = process(plan, window, buffer, hasher);
            hashing += std::chrono::steady_clock::now() - begin;
            task.runs = std::move(runs.data);
            if (!runs.zeroes.empty()) {
                Task zeroes;
                zeroes.runs = std::move(runs.zeroes);
                pipeline.submit(std::move(zeroes));
            }
        }
        pipeline.submit(std::move(task));
        while (next < plan.data.size() && plan.data[next].end() <= position)
            ++next;
        if (progress)
            progress(done, total);
    }
    pipeline.drain();
    CopyStats stats;
    stats.hashing = hashing + pipeline.processing();
    if (hasher)
        hasher->finish();
    if (writer) {
        const auto begin = std::chrono::steady_clock::now();
        writer->finish();
        stats.finishing = std::chrono::steady_clock::now() - begin;
    }
    return stats;
}

} // namespace virtsnap::copy
