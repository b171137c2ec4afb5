#include "image/content_hash.hpp"

#include "util/error.hpp"

#include <xxhash.h>
#if defined(__x86_64__) || defined(__i386__)
// The library's run-time dispatch picks AVX2/AVX-512 code where the CPU has
// it: about twice the hashing speed of the baseline SSE2 code here.
#include <xxh_x86dispatch.h>
#endif

#include <cstring>

namespace virtsnap::image {

namespace {

struct StateDeleter {
    void operator()(XXH3_state_t* state) const noexcept { XXH3_freeState(state); }
};
using StatePtr = std::unique_ptr<XXH3_state_t, StateDeleter>;

StatePtr new_state() {
    StatePtr state(XXH3_createState());
    if (!state || XXH3_128bits_reset(state.get()) != XXH_OK)
        throw std::bad_alloc();
    return state;
}

void put_le64(unsigned char* out, std::uint64_t value) {
    for (int i = 0; i < 8; ++i)
        out[i] = static_cast<unsigned char>(value >> (8 * i));
}

std::string hex_of(const XXH128_canonical_t& canonical) {
    static const char digits[] = "0123456789abcdef";
    std::string text = "xxh3-128:";
    for (unsigned char byte : canonical.digest) {
        text += digits[byte >> 4];
        text += digits[byte & 15];
    }
    return text;
}

} // namespace

std::string xxh128_text(const std::string& bytes) {
    XXH128_canonical_t canonical;
    XXH128_canonicalFromHash(&canonical, XXH3_128bits(bytes.data(), bytes.size()));
    return hex_of(canonical);
}

bool is_zero(const char* data, std::size_t len) noexcept {
    // Zero when the first 16 bytes are zero and every byte equals the one 16
    // bytes further on: one memcmp, which the C library vectorises.
    const std::size_t head = len < 16 ? len : 16;
    for (std::size_t i = 0; i < head; ++i)
        if (data[i] != 0)
            return false;
    return len <= 16 || std::memcmp(data, data + 16, len - 16) == 0;
}

struct ContentHasher::State {
    StatePtr chunk = new_state();
    StatePtr whole = new_state();
};

ContentHasher::ContentHasher(std::uint64_t virtual_size, std::uint64_t chunk_size)
    : virtual_size_(virtual_size), chunk_size_(chunk_size), state_(std::make_unique<State>()) {
    if (chunk_size_ == 0 || chunk_size_ % hash_block_size != 0)
        throw util::Error("internal error: chunk size " + std::to_string(chunk_size_) +
                          " is not a multiple of 4 KiB");
}

ContentHasher::~ContentHasher() = default;

void ContentHasher::add_block(std::uint64_t offset, const char* data, std::size_t len) {
    if (offset % hash_block_size != 0 || offset < next_offset_ || len == 0 || len > hash_block_size ||
        offset + len > virtual_size_)
        throw util::Error("internal error: block at " + std::to_string(offset) +
                          " out of order or misaligned");
    if (block_sums_) {
        block_sums_->add_block(offset, data, len);
        if (only_block_sums_) {
            data_bytes_ += len;
            next_offset_ = offset + len;
            return;
        }
    }
    const std::uint64_t chunk = offset - offset % chunk_size_;
    if (chunk_open_ && chunk != chunk_offset_)
        close_chunk();
    if (!chunk_open_) {
        XXH3_128bits_reset(state_->chunk.get());
        chunk_open_ = true;
        chunk_offset_ = chunk;
    }
    unsigned char number[8];
    put_le64(number, offset / hash_block_size);
    XXH3_128bits_update(state_->chunk.get(), number, sizeof number);
    XXH3_128bits_update(state_->chunk.get(), data, len);
    data_bytes_ += len;
    next_offset_ = offset + len;
}

void ContentHasher::close_chunk() {
    XXH128_canonical_t canonical;
    XXH128_canonicalFromHash(&canonical, XXH3_128bits_digest(state_->chunk.get()));
    unsigned char offset[8];
    put_le64(offset, chunk_offset_);
    XXH3_128bits_update(state_->whole.get(), offset, sizeof offset);
    XXH3_128bits_update(state_->whole.get(), canonical.digest, sizeof canonical.digest);
    chunks_.push_back({chunk_offset_, hex_of(canonical)});
    chunk_open_ = false;
}

void ContentHasher::finish() {
    if (chunk_open_)
        close_chunk();
    unsigned char size[8];
    put_le64(size, virtual_size_);
    XXH3_128bits_update(state_->whole.get(), size, sizeof size);
    XXH128_canonical_t canonical;
    XXH128_canonicalFromHash(&canonical, XXH3_128bits_digest(state_->whole.get()));
    checksum_ = hex_of(canonical);
}

} // namespace virtsnap::image
