#pragma once
// Exponential backoff with full jitter, shared by the fetch loop and the S3 client.

#include <chrono>
#include <cstdint>

namespace pipeline::core {

/// Draws retry waits: attempt n waits a uniform time in [0, min(max, base * 2^(n-1))] ("full jitter"), so
/// that clients retrying together spread out. Not thread-safe: one per thread.
class Backoff {
  public:
    Backoff(std::chrono::milliseconds base, std::chrono::milliseconds max);

    /// The wait before retry number `attempt` (1 = the first retry); never negative.
    std::chrono::milliseconds next(int attempt);

  private:
    std::chrono::milliseconds m_base;
    std::chrono::milliseconds m_max;
    std::uint64_t m_state; // xorshift64: cheap, and quality is not a concern for jitter
};

} // namespace pipeline::core
